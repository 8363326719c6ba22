"""Webhook URLs that would make the server call its own network are refused, at creation and at
every send, unless PAIS_WEBHOOK_ALLOW_PRIVATE is on."""

from __future__ import annotations

import socket

import pytest

from rehab.models import WebhookEndpoint
from rehab.notify.sender import send_delivery
from tests.notify.helpers import make_alert, make_endpoint, reload, webhook_delivery

pytestmark = pytest.mark.django_db

REFUSED = [
    "https://10.0.0.1/hook",
    "https://127.0.0.1/hook",
    "https://127.0.0.1:8443/hook",
    "https://169.254.169.254/latest/meta-data/",
    "https://[::1]/hook",
    "https://[::ffff:10.0.0.1]/hook",
    "https://[fe80::1]/hook",
    "https://192.168.1.20/hook",
    "https://172.16.0.1/hook",
    "https://100.64.0.1/hook",
    "https://0.0.0.0/hook",
    "https://224.0.0.1/hook",
    "https://240.0.0.1/hook",
    "https://localhost/hook",
]
PUBLIC = "https://93.184.215.14/hooks/pais"


def _fake_dns(monkeypatch, answers: dict[str, list[str]]) -> None:
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if host in answers:
            return [
                (
                    socket.AF_INET6 if ":" in a else socket.AF_INET,
                    socket.SOCK_STREAM,
                    6,
                    "",
                    (a, port),
                )
                for a in answers[host]
            ]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


@pytest.mark.parametrize("url", REFUSED)
def test_private_addresses_are_refused_at_creation(cast, api, url):
    response = api(cast.admin).post("/api/v1/webhooks/", {"url": url}, format="json")
    assert response.status_code == 400, response.content
    assert "url" in response.json()
    assert not WebhookEndpoint.objects.exists()


def test_a_public_address_is_accepted(cast, api):
    response = api(cast.admin).post("/api/v1/webhooks/", {"url": PUBLIC}, format="json")
    assert response.status_code == 201, response.content


def test_a_name_is_refused_if_any_of_its_addresses_is_private(cast, api, monkeypatch):
    _fake_dns(monkeypatch, {"hooks.example.org": ["93.184.215.14", "10.1.2.3"]})
    response = api(cast.admin).post(
        "/api/v1/webhooks/", {"url": "https://hooks.example.org/x"}, format="json"
    )
    assert response.status_code == 400
    assert "10.1.2.3" in response.json()["url"][0]


@pytest.mark.parametrize(
    "url",
    [
        "http://93.184.215.14/hook",  # plain http outside DEBUG / allow-private
        "ftp://93.184.215.14/hook",
        "https://user:pass@93.184.215.14/hook",
        "not a url",
        "https:///nohost",
        "",
    ],
)
def test_other_bad_urls_are_refused(cast, api, url):
    response = api(cast.admin).post("/api/v1/webhooks/", {"url": url}, format="json")
    assert response.status_code == 400
    assert "url" in response.json()


def test_allow_private_lets_local_addresses_and_http_through(cast, api, allow_private):
    for url in ("http://127.0.0.1:8080/hook", "http://[::1]:8080/hook", "http://10.0.0.1/x"):
        response = api(cast.admin).post("/api/v1/webhooks/", {"url": url}, format="json")
        assert response.status_code == 201, (url, response.content)


def test_a_private_address_is_refused_at_send_time(cast, receiver, settings):
    endpoint = make_endpoint(cast.clinic, receiver.url)  # saved while local runs were allowed
    delivery = webhook_delivery(make_alert(cast.episode_a), endpoint)
    settings.PAIS_WEBHOOK_ALLOW_PRIVATE = False
    settings.DEBUG = True  # lets plain http through, so the address is what gets refused
    assert send_delivery(delivery.pk).result == "failed"
    delivery = reload(delivery)
    assert "non-public address" in delivery.last_error
    assert receiver.requests == []


def test_dns_that_changes_after_creation_is_caught_at_send_time(cast, api, monkeypatch):
    _fake_dns(monkeypatch, {"hooks.example.org": ["93.184.215.14"]})
    response = api(cast.admin).post(
        "/api/v1/webhooks/", {"url": "https://hooks.example.org/x"}, format="json"
    )
    assert response.status_code == 201
    endpoint = WebhookEndpoint.objects.get()
    delivery = webhook_delivery(make_alert(cast.episode_a), endpoint)

    _fake_dns(monkeypatch, {"hooks.example.org": ["169.254.169.254"]})
    connections: list[object] = []
    monkeypatch.setattr(socket, "create_connection", lambda *a, **k: connections.append(a) or 1 / 0)
    assert send_delivery(delivery.pk).result == "failed"
    assert "169.254.169.254" in reload(delivery).last_error
    assert connections == []  # refused before any connection was opened


def test_an_unresolvable_host_at_send_time_is_retried(cast, api, monkeypatch):
    _fake_dns(monkeypatch, {"hooks.example.org": ["93.184.215.14"]})
    api(cast.admin).post("/api/v1/webhooks/", {"url": "https://hooks.example.org/x"}, format="json")
    delivery = webhook_delivery(make_alert(cast.episode_a), WebhookEndpoint.objects.get())

    def no_dns(*args, **kwargs):
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")

    monkeypatch.setattr(socket, "getaddrinfo", no_dns)
    assert send_delivery(delivery.pk).result == "retry"
    assert "could not be resolved" in reload(delivery).last_error
