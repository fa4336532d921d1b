"""Construction, the held view, and the `before`/`after` callbacks of dict descriptions.

Event logs are compared as exact sequences. Every description points at memory the test owns.
"""

import ctypes
import gc
import sys
import weakref

import numpy as np
import pytest

from bufferproxy import BufferProxy

_NO_PARENT = object()


class Recorder:
    """before/after callbacks that log (event, parent) pairs."""

    def __init__(self):
        self.events = []

    def before(self, parent):
        self.events.append(("before", parent))

    def after(self, parent):
        self.events.append(("after", parent))

    @property
    def names(self):
        return [name for name, _parent in self.events]

    def clear(self):
        self.events.clear()


class Target:
    """An owned ctypes buffer and descriptions of it."""

    def __init__(self, size=8, content=None):
        content = bytes(range(1, size + 1)) if content is None else content
        self.buffer = ctypes.create_string_buffer(content, size)
        self.address = ctypes.addressof(self.buffer)
        self.size = size

    def description(self, recorder=None, parent=_NO_PARENT, readonly=False, **extra):
        d = {"shape": (self.size,), "typestr": "|u1", "data": (self.address, readonly)}
        if recorder is not None:
            d["before"] = recorder.before
            d["after"] = recorder.after
        if parent is not _NO_PARENT:
            d["parent"] = parent
        d.update(extra)
        return d

    def proxy(self, recorder=None, parent=_NO_PARENT, readonly=False, **extra):
        return BufferProxy(self.description(recorder, parent, readonly, **extra))


class Boom(Exception):
    pass


class Unraisables:
    """Replacement for sys.unraisablehook that records what it is given."""

    def __init__(self):
        self.records = []

    def __call__(self, args):
        self.records.append((args.exc_type, args.exc_value))

    @property
    def types(self):
        return [exc_type for exc_type, _value in self.records]


@pytest.fixture
def unraisables(monkeypatch):
    hook = Unraisables()
    monkeypatch.setattr(sys, "unraisablehook", hook)
    return hook


def collect():
    for _ in range(3):
        gc.collect()


# --------------------------------------------------------------------------------------------
# construction


def test_constructor_takes_exactly_one_positional_argument():
    target = Target()
    d = target.description()
    with pytest.raises(TypeError):
        BufferProxy()
    with pytest.raises(TypeError):
        BufferProxy(d, d)
    with pytest.raises(TypeError):
        BufferProxy(d, None)


@pytest.mark.parametrize("kwargs", [{"foo": 1}, {"parent": None}, {"before": print}, {"obj": b"x"}])
def test_constructor_rejects_keywords(kwargs):
    d = Target().description()
    with pytest.raises(TypeError):
        BufferProxy(d, **kwargs)


def test_parent_is_not_a_keyword():
    with pytest.raises(TypeError):
        BufferProxy(parent=Target().description())


def test_construction_exports_nothing():
    recorder = Recorder()
    target = Target()
    BufferProxy(target.description(recorder))
    proxy = BufferProxy(target.description(recorder))
    assert recorder.events == []
    del proxy
    collect()
    assert recorder.events == []

    parent = bytearray(b"abcd")
    proxy = BufferProxy(parent)
    parent.extend(b"e")  # no export held yet: resizing works
    assert proxy.length == 5  # first use acquires
    with pytest.raises(BufferError):
        parent.extend(b"f")
    del proxy
    collect()
    parent.extend(b"f")
    assert parent == bytearray(b"abcdef")


USES = {
    "parent": lambda p: p.parent,
    "length": lambda p: p.length,
    "raw": lambda p: p.raw,
    "__array_interface__": lambda p: p.__array_interface__,
    "__array_struct__": lambda p: p.__array_struct__,
    "repr": repr,
}


@pytest.mark.parametrize("use", [*USES, "memoryview", "numpy", "write"], ids=str)
def test_int_parent_constructs_and_fails_on_first_use(use):
    actions = {
        **USES,
        "memoryview": memoryview,
        "numpy": lambda p: np.frombuffer(p, dtype=np.uint8),
        "write": lambda p: p.write(b""),
    }
    proxy = BufferProxy(1)
    for _ in range(2):
        with pytest.raises(ValueError, match="int object does not export an array buffer") as info:
            actions[use](proxy)
    assert info.value.__cause__ is not None


# --------------------------------------------------------------------------------------------
# callback arguments


def test_callbacks_receive_the_parent():
    class Parent:
        pass

    parent = Parent()
    recorder = Recorder()
    target = Target()
    proxy = target.proxy(recorder, parent=parent)
    assert proxy.parent is parent
    view = memoryview(proxy)
    view.release()
    del proxy
    collect()
    assert recorder.names == ["before", "before", "after", "after"]
    assert all(p is parent for _name, p in recorder.events)


@pytest.mark.parametrize("explicit_none", [False, True])
def test_callbacks_receive_none_without_a_parent(explicit_none):
    recorder = Recorder()
    target = Target()
    extra = {"parent": None} if explicit_none else {}
    proxy = target.proxy(recorder, **extra)
    assert proxy.parent is None
    proxy.write(b"x")
    del proxy
    collect()
    assert recorder.events == [("before", None), ("before", None), ("after", None), ("after", None)]


# --------------------------------------------------------------------------------------------
# the held view


@pytest.mark.parametrize("first", list(USES))
def test_first_use_acquires_once_and_destruction_releases(first):
    recorder = Recorder()
    target = Target()
    proxy = target.proxy(recorder)
    USES[first](proxy)
    assert recorder.names == ["before"]
    for _ in range(3):
        for use in USES.values():
            use(proxy)
    assert proxy.length == 8
    assert proxy.raw == bytes(range(1, 9))
    assert repr(proxy) == "<BufferProxy(8)>"
    assert recorder.names == ["before"]
    del proxy
    collect()
    assert recorder.names == ["before", "after"]


def test_held_view_released_when_a_reference_cycle_is_collected():
    recorder = Recorder()
    target = Target()  # owns the memory the proxy's raw address points to
    proxy = target.proxy(recorder)
    proxy.length  # noqa: B018
    proxy.cycle = proxy  # instances have a __dict__
    ref = weakref.ref(proxy)
    del proxy
    collect()
    assert ref() is None
    assert recorder.names == ["before", "after"]


def test_subclass_instances_release_too():
    class Sub(BufferProxy):
        pass

    recorder = Recorder()
    target = Target()
    proxy = Sub(target.description(recorder))
    assert repr(proxy) == "<BufferProxy(8)>"
    assert recorder.names == ["before"]
    del proxy
    collect()
    assert recorder.names == ["before", "after"]


def test_array_struct_capsule_keeps_the_proxy_and_view_alive():
    recorder = Recorder()
    target = Target()
    proxy = target.proxy(recorder)
    capsule = proxy.__array_struct__
    assert recorder.names == ["before"]
    del proxy
    collect()
    assert recorder.names == ["before"]
    del capsule
    collect()
    assert recorder.names == ["before", "after"]


def test_memoryview_keeps_the_proxy_alive():
    recorder = Recorder()
    target = Target()  # owns the memory the proxy's raw address points to
    proxy = target.proxy(recorder)
    proxy.length  # noqa: B018
    view = memoryview(proxy)
    del proxy
    collect()
    assert recorder.names == ["before", "before"]
    assert view.tobytes() == bytes(range(1, 9))
    view.release()
    collect()
    assert recorder.names == ["before", "before", "after", "after"]


# --------------------------------------------------------------------------------------------
# before runs only once the description has validated


class BadBool:
    def __bool__(self):
        raise Boom("bool")


INVALID = {
    "shape-list": {"shape": [8]},
    "shape-empty": {"shape": ()},
    "no-typestr": {"typestr": None},
    "bad-typestr": {"typestr": "|x1"},
    "non-ascii-typestr": {"typestr": "\u00e9\u00e9\u00e9"},
    "data-list": {"data": [0, False]},
    "strides-mismatch": {"strides": (1, 1)},
    "address-overflow": {"data": (2**200, False)},
    "readonly-bool-raises": {"data": (None, BadBool())},
    "shape-overflow": {"shape": (2**70,)},
    "data-too-small": {"data": bytearray(4)},
    "offset-with-tuple": {"offset": 0},
}


@pytest.mark.parametrize("name", sorted(INVALID))
def test_invalid_description_never_calls_before(name):
    recorder = Recorder()
    target = Target()
    description = target.description(recorder)
    for key, value in INVALID[name].items():
        if value is None:
            del description[key]
        elif key == "data" and isinstance(value, tuple) and value[0] is None:
            description[key] = (target.address, value[1])
        else:
            description[key] = value
    proxy = BufferProxy(description)
    for use in [*USES.values(), memoryview, lambda p: p.write(b"x")]:
        with pytest.raises((ValueError, OverflowError, UnicodeEncodeError, Boom)):
            use(proxy)
    del proxy
    collect()
    assert recorder.events == []
    assert target.buffer.raw == bytes(range(1, 9))


def test_writable_request_on_read_only_never_calls_before():
    recorder = Recorder()
    target = Target()
    proxy = target.proxy(recorder, readonly=True)
    with pytest.raises(BufferError):
        proxy.write(b"x")
    assert recorder.events == []
    assert proxy.length == 8
    assert recorder.names == ["before"]
    with pytest.raises(BufferError):
        proxy.write(b"x")
    assert recorder.names == ["before"]
    del proxy
    collect()
    assert recorder.names == ["before", "after"]


# --------------------------------------------------------------------------------------------
# before raising


def test_before_raising_propagates_holds_nothing_and_is_retried():
    recorder = Recorder()
    failures = [Boom("first"), Boom("second")]

    def before(parent):
        recorder.before(parent)
        if failures:
            raise failures.pop(0)

    data = bytearray(b"12345678")
    proxy = BufferProxy(
        {"shape": (8,), "typestr": "|u1", "data": data, "before": before, "after": recorder.after}
    )
    with pytest.raises(Boom, match="first"):
        proxy.length  # noqa: B018
    assert recorder.names == ["before"]
    data.extend(b"9")  # nothing stays acquired
    with pytest.raises(Boom, match="second"):
        proxy.raw  # noqa: B018
    assert recorder.names == ["before", "before"]
    data.extend(b"0")
    assert proxy.raw == b"12345678"
    assert recorder.names == ["before", "before", "before"]
    with pytest.raises(BufferError):
        data.extend(b"!")
    del proxy
    collect()
    assert recorder.names == ["before", "before", "before", "after"]
    data.extend(b"!")


@pytest.mark.parametrize("export", ["memoryview", "write"])
def test_before_raising_on_an_export_propagates_without_after(export):
    recorder = Recorder()
    target = Target()
    failing = []

    def before(parent):
        recorder.before(parent)
        if failing:
            raise Boom("export")

    proxy = target.proxy(before=before, after=recorder.after)
    proxy.length  # noqa: B018  (held view acquired while before still works)
    recorder.clear()
    failing.append(True)
    action = {"memoryview": memoryview, "write": lambda p: p.write(b"\xff\xff")}[export]
    with pytest.raises(Boom, match="export"):
        action(proxy)
    assert recorder.names == ["before"]
    assert target.buffer.raw == bytes(range(1, 9))
    failing.clear()
    del proxy
    collect()
    assert recorder.names == ["before", "after"]  # only the held view's release


@pytest.mark.parametrize("before", [5, None, "before", b"x"])
def test_non_callable_before_is_type_error_at_acquisition(before):
    recorder = Recorder()
    target = Target()
    proxy = target.proxy(recorder, before=before)
    for use in [*USES.values(), memoryview, lambda p: p.write(b"x")]:
        with pytest.raises(TypeError):
            use(proxy)
    del proxy
    collect()
    assert recorder.events == []
    assert target.buffer.raw == bytes(range(1, 9))


# --------------------------------------------------------------------------------------------
# each export is bracketed by its own before/after


@pytest.fixture
def held():
    """A proxy whose held view is already acquired, and its (cleared) recorder."""
    recorder = Recorder()
    target = Target()
    proxy = target.proxy(recorder, parent="the parent")
    proxy.length  # noqa: B018
    assert recorder.names == ["before"]
    recorder.clear()
    yield proxy, recorder, target
    del proxy
    collect()
    assert recorder.names[-1] == "after"


def test_memoryview_export_is_bracketed(held):
    proxy, recorder, _target = held
    view = memoryview(proxy)
    assert recorder.names == ["before"]
    assert view.tobytes() == bytes(range(1, 9))
    view.release()
    assert recorder.names == ["before", "after"]
    assert recorder.events[0] == ("before", "the parent")
    assert recorder.events[1] == ("after", "the parent")


def test_nested_memoryviews_are_bracketed_separately(held):
    proxy, recorder, _target = held
    first = memoryview(proxy)
    second = memoryview(proxy)
    assert recorder.names == ["before", "before"]
    first.release()
    assert recorder.names == ["before", "before", "after"]
    second.release()
    assert recorder.names == ["before", "before", "after", "after"]


def test_derived_memoryviews_share_one_export(held):
    proxy, recorder, _target = held
    view = memoryview(proxy)
    part = view[2:]
    strided = part[::2]
    assert recorder.names == ["before"]
    view.release()
    part.release()
    assert recorder.names == ["before"]
    assert strided.tobytes() == bytes([3, 5, 7])
    strided.release()
    assert recorder.names == ["before", "after"]


def test_numpy_export_is_bracketed(held):
    proxy, recorder, target = held
    array = np.asarray(proxy)
    assert recorder.names == ["before"]
    array[0] = 42
    assert target.buffer.raw[0] == 42
    del array
    collect()
    assert recorder.names == ["before", "after"]


def test_ctypes_export_is_bracketed(held):
    proxy, recorder, target = held
    chars = (ctypes.c_char * 8).from_buffer(proxy)
    assert recorder.names == ["before"]
    chars[1] = b"\x00"
    assert target.buffer.raw[1] == 0
    del chars
    collect()
    assert recorder.names == ["before", "after"]


def test_write_export_is_bracketed(held):
    proxy, recorder, target = held
    proxy.write(b"\xaa\xbb", 6)
    assert recorder.names == ["before", "after"]
    assert target.buffer.raw[6:8] == b"\xaa\xbb"
    proxy.write(b"\xcc")
    assert recorder.names == ["before", "after", "before", "after"]


def test_failed_write_keeps_callbacks_balanced(held):
    proxy, recorder, target = held
    for args in [(b"x", 8), (b"x", -1), (b"x" * 9,)]:
        with pytest.raises((IndexError, ValueError)):
            proxy.write(*args)
    assert recorder.names.count("before") == recorder.names.count("after")
    assert target.buffer.raw == bytes(range(1, 9))


def test_exports_as_first_use_do_not_acquire_the_held_view():
    recorder = Recorder()
    target = Target()
    proxy = target.proxy(recorder)
    view = memoryview(proxy)
    assert recorder.names == ["before"]
    view.release()
    assert recorder.names == ["before", "after"]
    proxy.write(b"z")
    assert recorder.names == ["before", "after", "before", "after"]
    array = np.asarray(proxy)
    del array
    collect()
    assert recorder.names == ["before", "after"] * 3
    proxy.length  # noqa: B018  (now the held view)
    assert recorder.names == ["before", "after"] * 3 + ["before"]
    del proxy
    collect()
    assert recorder.names == ["before", "after"] * 4


def test_interleaved_sequence():
    recorder = Recorder()
    target = Target()  # owns the memory the proxy's raw address points to
    proxy = target.proxy(recorder)
    view = memoryview(proxy)  # export 1
    proxy.raw  # noqa: B018  held view
    array = np.asarray(proxy)  # export 2
    proxy.write(b"q")  # export 3
    view.release()
    del array
    collect()
    assert recorder.names == ["before", "before", "before", "before", "after", "after", "after"]
    del proxy
    collect()
    assert recorder.names[-1] == "after"
    assert len(recorder.names) == 8


# --------------------------------------------------------------------------------------------
# after raising: reported through sys.unraisablehook


def _raising_after(errors):
    def after(parent):
        error = Boom(f"after {len(errors)}")
        errors.append(error)
        raise error

    return after


def test_after_raising_on_export_release_is_unraisable(unraisables):
    errors = []
    target = Target()
    proxy = target.proxy(after=_raising_after(errors))
    view = memoryview(proxy)
    view.release()  # does not raise
    collect()
    assert unraisables.types == [Boom]
    assert unraisables.records[0][1] is errors[0]
    # the proxy still works
    proxy.write(b"w")
    collect()
    assert target.buffer.raw[0:1] == b"w"
    assert unraisables.types == [Boom, Boom]
    array = np.asarray(proxy)
    del array
    collect()
    assert unraisables.types == [Boom, Boom, Boom]
    assert [value for _type, value in unraisables.records] == errors


def test_after_raising_on_held_view_release_is_unraisable(unraisables):
    errors = []
    target = Target()
    proxy = target.proxy(after=_raising_after(errors))
    assert proxy.length == 8
    assert unraisables.records == []
    del proxy
    collect()
    assert unraisables.types == [Boom]
    assert unraisables.records[0][1] is errors[0]


@pytest.mark.parametrize("after", [5, "after", None])
def test_non_callable_after_is_unraisable_type_error(unraisables, after):
    recorder = Recorder()
    target = Target()
    proxy = target.proxy(before=recorder.before, after=after)
    view = memoryview(proxy)
    view.release()
    collect()
    assert unraisables.types == [TypeError]
    proxy.length  # noqa: B018
    del proxy
    collect()
    assert unraisables.types == [TypeError, TypeError]
    assert recorder.names == ["before", "before"]


@pytest.mark.parametrize(
    "fail",
    [
        lambda proxy: proxy.__array_struct__ + None,  # the capsule dies mid-exception
        lambda proxy: [proxy, proxy.length] + None,  # the used proxy dies mid-exception
    ],
    ids=["capsule", "proxy"],
)
def test_after_running_while_an_exception_is_pending_keeps_it(fail):
    calls = []
    desc = {
        "shape": (4,),
        "typestr": "|u1",
        "data": bytearray(4),
        "after": lambda parent: calls.append(parent),
    }
    with pytest.raises(TypeError, match=r"unsupported operand|can only concatenate"):
        fail(BufferProxy(desc))
    gc.collect()
    assert calls == [None]
