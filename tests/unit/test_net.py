"""The outbound-HTTP guard: HTTPS and public addresses only in production."""

import pytest

from lti_badges.net import FetchError, NetPolicy, check_url

PROD = NetPolicy(allow_insecure=False)
DEV = NetPolicy(allow_insecure=True)


@pytest.mark.parametrize("url", [
    "http://example.com/x", "https://127.0.0.1/x", "https://localhost/x", "https://10.1.2.3/",
    "https://[::1]/", "https://169.254.169.254/latest", "ftp://example.com/", "https:///x",
    "https://user:pw@example.com/", "", "javascript:alert(1)",
])
def test_production_refuses(url):
    with pytest.raises(FetchError):
        check_url(url, PROD)


def test_development_allows_loopback_http():
    assert check_url("http://127.0.0.1:8080/x", DEV)
    with pytest.raises(FetchError):
        check_url("file:///etc/passwd", DEV)
