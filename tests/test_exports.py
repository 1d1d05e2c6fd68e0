import inferencesh


def test_all_is_sorted_and_every_name_resolves() -> None:
    assert inferencesh.__all__ == sorted(inferencesh.__all__)
    for name in inferencesh.__all__:
        assert getattr(inferencesh, name) is not None, name


def test_unknown_attribute_is_an_attribute_error() -> None:
    try:
        inferencesh.nope  # noqa: B018
    except AttributeError as exc:
        assert "nope" in str(exc)
    else:
        raise AssertionError("expected AttributeError")


def test_version_is_static() -> None:
    assert inferencesh.__version__ == "0.1.0"
