import importlib.metadata
import inspect

import inferencesh
from inferencesh import errors
from inferencesh._protocol.endpoints import user_agent


def test_all_is_sorted_and_every_name_resolves() -> None:
    assert inferencesh.__all__ == sorted(inferencesh.__all__)
    for name in inferencesh.__all__:
        assert getattr(inferencesh, name) is not None, name


def test_every_error_class_is_exported_from_the_package_root() -> None:
    classes = {
        name
        for name, value in vars(errors).items()
        if inspect.isclass(value)
        and issubclass(value, errors.InferenceError | errors.InferenceWarning)
        and not name.startswith("_")
    }
    assert classes == set(errors.__all__)
    for name in classes:
        assert name in inferencesh.__all__, name
        assert getattr(inferencesh, name) is getattr(errors, name), name


def test_misuse_has_its_own_errors() -> None:
    for cls in (errors.ClientClosedError, errors.SessionClosedError):
        assert issubclass(cls, errors.UsageError) and cls is not errors.UsageError
    assert issubclass(errors.UsageError, errors.InferenceError)


def test_unknown_attribute_is_an_attribute_error() -> None:
    try:
        inferencesh.nope  # noqa: B018
    except AttributeError as exc:
        assert "nope" in str(exc)
    else:
        raise AssertionError("expected AttributeError")


def test_the_version_is_written_in_one_place() -> None:
    # The installed metadata, the package and the User-Agent all read _version.py.
    assert inferencesh.__version__ == importlib.metadata.version("inferencesh")
    assert user_agent() == f"inferencesh-python/{inferencesh.__version__}"
