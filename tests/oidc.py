"""Start the test OpenID provider (tests/oidc_provider/) in its own process, point the help centre
at it, and sign in on it as a marketplace account would."""

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urljoin, urlsplit

import requests

from .webhook_receiver import free_port

ROOT = Path(__file__).resolve().parent.parent
PROVIDER_PORTS = range(18900, 18920)
CLIENT_ID = "helpcenter-test-client"
CLIENT_SECRET = "helpcenter-test-client-secret-0123456789"


@dataclass(frozen=True)
class Account:
    id: str
    password: str
    email: str = ""
    name: str = ""


@dataclass
class Provider:
    url: str

    def configure(self, settings) -> None:
        """The help centre's settings, as MARKETPLACE_OIDC_* in the environment would make them."""
        settings.OIDC_RP_CLIENT_ID = CLIENT_ID
        settings.OIDC_RP_CLIENT_SECRET = CLIENT_SECRET
        settings.OIDC_OP_AUTHORIZATION_ENDPOINT = f"{self.url}/o/authorize/"
        settings.OIDC_OP_TOKEN_ENDPOINT = f"{self.url}/o/token/"
        settings.OIDC_OP_USER_ENDPOINT = f"{self.url}/o/userinfo/"
        settings.OIDC_OP_JWKS_ENDPOINT = f"{self.url}/o/.well-known/jwks.json"
        settings.MARKETPLACE_NAME = "Маркет"

    def sign_in(self, authorize_url: str, account: Account) -> dict[str, str]:
        """Sign in on the provider's page and authorize; the code and state it sends back."""
        browser = requests.Session()
        login_page = browser.get(authorize_url, timeout=10)
        assert login_page.status_code == 200 and "Marketplace: sign in" in login_page.text
        answer = browser.post(
            login_page.url,
            data={
                "username": account.id,
                "password": account.password,
                "csrfmiddlewaretoken": browser.cookies["csrftoken"],
                "next": parse_qs(urlsplit(login_page.url).query)["next"][0],
            },
            headers={"Referer": login_page.url},
            allow_redirects=False,
            timeout=10,
        )
        assert answer.status_code == 302, answer.text
        authorized = browser.get(urljoin(self.url, answer.headers["Location"]), allow_redirects=False, timeout=10)
        assert authorized.status_code == 302, authorized.text
        query = parse_qs(urlsplit(authorized.headers["Location"]).query)
        return {key: values[0] for key, values in query.items()}


@contextmanager
def running_provider(folder: Path, *, redirect_uris: list[str], accounts: list[Account]) -> Iterator[Provider]:
    port = free_port(PROVIDER_PORTS)
    config = folder / "oidc-provider.json"
    config.write_text(
        json.dumps(
            {
                "port": port,
                "database": str(folder / "oidc-provider.sqlite3"),
                "accounts": [account.__dict__ for account in accounts],
                "client": {"id": CLIENT_ID, "secret": CLIENT_SECRET, "redirect_uris": redirect_uris},
            }
        )
    )
    environment = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    log = (folder / "oidc-provider.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.oidc_provider.serve", str(config)],
        cwd=ROOT,
        env=environment,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the OpenID provider stopped: {(folder / 'oidc-provider.log').read_text()}")
            try:
                if requests.get(f"{url}/o/.well-known/openid-configuration", timeout=2).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the OpenID provider did not start within a minute")
            time.sleep(0.2)
        yield Provider(url)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
