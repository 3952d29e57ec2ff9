"""The sandbox CRM's own pages: what "Open in CRM" opens in the demo."""

from __future__ import annotations

from urllib.parse import urlsplit

from crm_adapters.models import ContactDraft
from crm_adapters.sandbox import SandboxAdapter


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def test_a_contact_page_shows_the_contact(client, sandbox):
    report = sandbox[1]
    adapter = SandboxAdapter(sandbox[0], environment_id="contoso")
    contact = adapter.match_contacts([report.single_address])[report.single_address][0]
    adapter.close()
    page = client.get(path_of(contact.url))
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert contact.last_name in html
    assert report.single_address in html


def test_an_account_page_lists_its_opportunities_and_cases(client, sandbox):
    report = sandbox[1]
    adapter = SandboxAdapter(sandbox[0], environment_id="contoso")
    account = adapter.get_accounts([report.account_contact_id])[0]
    adapter.close()
    html = client.get(path_of(account.url)).get_data(as_text=True)
    assert account.name in html
    assert account.opportunities[0].name in html


def test_unknown_records_are_404(client):
    assert client.get("/sandbox/contoso/contact/no-such-id").status_code == 404
    assert client.get("/sandbox/contoso/spaceship/1").status_code == 404


def test_the_new_contact_form_is_prefilled_and_saves(client, sandbox):
    adapter = SandboxAdapter(sandbox[0], environment_id="contoso")
    draft = ContactDraft(first_name="Anna", last_name="Nowak", email="anna.nowak@przyklad.example")
    form = client.get(path_of(adapter.new_contact_url(draft)))
    html = form.get_data(as_text=True)
    assert 'value="Nowak"' in html and 'value="anna.nowak@przyklad.example"' in html
    csrf = html.split('name="csrf" value="', 1)[1].split('"', 1)[0]

    refused = client.post(form.request.path, data={"last_name": "Nowak", "email": "a@b.example"})
    assert refused.status_code == 400  # no form token, no write

    created = client.post(
        form.request.path,
        data={"csrf": csrf, "first_name": "Anna", "last_name": "Nowak", "email": draft.email},
    )
    assert created.status_code == 303
    assert adapter.match_contacts([draft.email])[draft.email]
    adapter.close()


def test_the_form_says_what_is_missing(client):
    form = client.get("/sandbox/contoso/contact/new")
    csrf = form.get_data(as_text=True).split('name="csrf" value="', 1)[1].split('"', 1)[0]
    answer = client.post(form.request.path, data={"csrf": csrf, "email": "x@y.example"})
    assert answer.status_code == 422
    assert "last" in answer.get_data(as_text=True).lower()


def test_the_demo_front_page_links_the_showcase(tmp_path, sandbox):
    from addin import create_app

    demo = create_app(
        {
            "DEMO": True,
            "BROKER_URL": "memory://",
            "DATABASE_URL": f"sqlite:///{tmp_path}/d.db",
            "SANDBOX_PATH": str(sandbox[0]),
        }
    )
    client = demo.test_client()
    front = client.get("/")
    assert front.status_code == 302 and front.headers["Location"] == "/harness"
    assert "Sidepane dev harness" in client.get("/harness").get_data(as_text=True)
    html = client.get("/about").get_data(as_text=True)
    assert "Sidepane is running" in html
    href = html.split('<a href="http://127.0.0.1:8000', 2)[1].split('"', 1)[0]
    assert client.get(href).status_code == 200
    demo.extensions["store_engine"].dispose()


def test_no_front_page_outside_the_demo(client):
    assert client.get("/").status_code == 404
    assert client.get("/about").status_code == 404
    assert client.get("/harness").status_code == 404
