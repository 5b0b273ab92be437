import re

import pytest


@pytest.mark.parametrize("path", ["/", "/initiatives/", "/fr/initiatives/", "/accounts/login/"])
def test_public_pages_render(client, db, path, published):
    response = client.get(path)
    assert response.status_code == 200


@pytest.mark.parametrize("prefix", ["", "/fr"])
def test_every_navigation_link_leads_to_a_page(client, member, prefix):
    client.force_login(member)
    page = client.get(f"{prefix}/initiatives/").content.decode()
    nav = page[page.index('class="site-nav"') : page.index("</nav>")]
    links = re.findall(r'href="([^"]+)"', nav)
    assert f"{prefix}/reports/indicators/" in links
    assert f"{prefix}/reports/" in links
    assert f"{prefix}/my-initiatives/" in links
    for link in links:
        assert client.get(link).status_code == 200, link


def test_pages_load_nothing_from_other_sites_and_no_inline_script_or_style(client, published):
    for path in ("/", "/initiatives/", published.get_absolute_url(), "/accounts/signup/"):
        page = client.get(path).content.decode()
        assert not re.search(r'(src|href)="(https?:)?//', page), path
        assert "<script" not in page, path
        assert " style=" not in page, path
        assert re.search(r'\son[a-z]+="', page) is None, path
