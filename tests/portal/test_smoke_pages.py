import pytest


@pytest.mark.parametrize("path", ["/", "/initiatives/", "/fr/initiatives/", "/accounts/login/"])
def test_public_pages_render(client, db, path, published):
    response = client.get(path)
    assert response.status_code == 200
