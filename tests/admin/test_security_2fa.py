"""Two-factor sign-in (django-otp TOTP + backup codes): enrol, the code step, ADMIN_REQUIRE_2FA."""

import base64
import time
from http import HTTPStatus

import pytest
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from security.views import PENDING_KEY
from tests.processes import manage

pytestmark = pytest.mark.django_db

TWO_FACTOR = "/admin/two-factor/"
VERIFY = "/admin/login/verify/"


def code_for(key: bytes, steps_ahead: int = 0) -> str:
    """The 6-digit TOTP code an authenticator app shows for key (optionally a later 30 s step)."""
    totp = TOTP(key, step=30, t0=0, digits=6, drift=0)
    totp.time = time.time() + 30 * steps_ahead
    return f"{totp.token():06d}"


def secret_on_page(page: str) -> bytes:
    secret = page.split('<code id="totp-secret">')[1].split("</code>")[0].replace(" ", "")
    return base64.b32decode(secret + "=" * (-len(secret) % 8))


def enrol(client) -> tuple[bytes, list[str]]:
    """Enrol through the page as a user would; return the key and the backup codes shown."""
    page = client.get(TWO_FACTOR).content.decode()
    key = secret_on_page(page)
    response = client.post(TWO_FACTOR, {"action": "enrol", "code": code_for(key)})
    assert response.status_code == HTTPStatus.OK
    body = response.content.decode()
    codes = [
        part.split("</code>")[0]
        for part in body.split('<ul id="backup-codes">')[1].split("</ul>")[0].split("<code>")[1:]
    ]
    return key, codes


def unthrottle(user) -> None:
    """Skip django-otp's back-off after a wrong code (1 s, then 2 s, ...) instead of sleeping."""
    TOTPDevice.objects.filter(user=user).update(throttling_failure_timestamp=None, throttling_failure_count=0)


def password_step(client, username="admin", password="password"):
    return client.post("/admin/login/", {"username": username, "password": password, "next": "/admin/crm/customer/"})


def test_enrol_page_shows_a_local_qr_code_and_the_key(admin_client, admin_user):
    response = admin_client.get(TWO_FACTOR)
    page = response.content.decode()
    assert response.status_code == HTTPStatus.OK
    assert "no-store" in response["Cache-Control"]
    assert '<div class="qr" id="totp-qr"><svg ' in page  # drawn here, inline: no image service sees the secret
    device = TOTPDevice.objects.get(user=admin_user)
    assert (device.confirmed, secret_on_page(page)) == (False, device.bin_key)
    assert "otpauth://" not in page  # the URL is only inside the QR code
    # A reload keeps the same key, so a code scanned a moment ago still works.
    assert secret_on_page(admin_client.get(TWO_FACTOR).content.decode()) == device.bin_key


def test_enrolment_needs_a_matching_code(admin_client, admin_user):
    admin_client.get(TWO_FACTOR)
    response = admin_client.post(TWO_FACTOR, {"action": "enrol", "code": "000000"})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "That code does not match. Check the time on your phone and try again." in response.content.decode()
    assert TOTPDevice.objects.get(user=admin_user).confirmed is False


def test_enrolment_turns_it_on_with_ten_backup_codes(admin_client, admin_user):
    _, codes = enrol(admin_client)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert sorted(StaticToken.objects.filter(device__user=admin_user).values_list("token", flat=True)) == sorted(codes)
    assert TOTPDevice.objects.get(user=admin_user).confirmed is True
    page = admin_client.get(TWO_FACTOR).content.decode()
    assert "Two-factor sign-in is <strong>on</strong> for admin (authenticator app). Backup codes left: 10." in page
    assert "This session has not been verified" not in page  # enrolling verified this session


def test_without_a_device_the_password_is_enough(client, admin_user):
    response = password_step(client)
    assert (response.status_code, response["Location"]) == (302, "/admin/crm/customer/")


def test_with_a_device_the_password_leads_to_the_code_step(client, admin_user):
    client.force_login(admin_user)
    key, _ = enrol(client)
    client.post("/admin/logout/")
    response = password_step(client)
    assert (response.status_code, response["Location"]) == (302, VERIFY)
    assert "_auth_user_id" not in client.session  # not signed in yet
    assert client.get("/admin/crm/customer/")["Location"] == "/admin/login/?next=/admin/crm/customer/"
    page = client.get(VERIFY).content.decode()
    assert "Enter the code from your authenticator app." in page
    wrong = client.post(VERIFY, {"code": "123456" if code_for(key, 1) != "123456" else "654321"})
    assert wrong.status_code == HTTPStatus.OK
    assert "That code is not valid (or was already used). Try the current one." in wrong.content.decode()
    too_soon = client.post(VERIFY, {"code": code_for(key, 1)})
    assert (
        "Too many wrong codes in a row: wait a few seconds, then enter the current code." in too_soon.content.decode()
    )
    unthrottle(admin_user)
    right = client.post(VERIFY, {"code": code_for(key, 1)})  # enrolment used the current step's code
    assert (right.status_code, right["Location"]) == (302, "/admin/crm/customer/")
    assert client.get("/admin/crm/customer/").status_code == HTTPStatus.OK
    assert PENDING_KEY not in client.session


def test_a_backup_code_works_once(client, admin_user):
    client.force_login(admin_user)
    _, codes = enrol(client)
    client.post("/admin/logout/")
    password_step(client)
    assert client.post(VERIFY, {"code": codes[0]})["Location"] == "/admin/crm/customer/"
    client.post("/admin/logout/")
    password_step(client)
    assert client.post(VERIFY, {"code": codes[0]}).status_code == HTTPStatus.OK  # refused: used
    assert StaticToken.objects.filter(device__user=admin_user).count() == 9


def test_the_code_step_expires(client, admin_user):
    client.force_login(admin_user)
    key, _ = enrol(client)
    client.post("/admin/logout/")
    password_step(client)
    session = client.session
    session[PENDING_KEY] = {**session[PENDING_KEY], "at": time.time() - 301}
    session.save()
    response = client.post(VERIFY, {"code": code_for(key, 1)})
    assert (response.status_code, response["Location"]) == (302, "/admin/login/")
    assert "_auth_user_id" not in client.session


def test_wrong_codes_count_towards_the_lockout(client, admin_user):
    client.force_login(admin_user)
    enrol(client)
    client.post("/admin/logout/")
    password_step(client)
    statuses = [client.post(VERIFY, {"code": f"00000{n}"}).status_code for n in range(5)]
    assert statuses == [200, 200, 200, 200, 429]
    assert "Sign-in is locked after 5 failed attempts." in client.post(VERIFY, {"code": "000009"}).content.decode()


def test_turning_it_off_needs_a_code(admin_client, admin_user):
    key, _ = enrol(admin_client)
    refused = admin_client.post(TWO_FACTOR, {"action": "disable", "code": "000000"})
    assert refused.status_code == HTTPStatus.BAD_REQUEST
    unthrottle(admin_user)
    assert admin_client.post(TWO_FACTOR, {"action": "disable", "code": code_for(key, 1)}).status_code == 302
    assert not TOTPDevice.objects.filter(user=admin_user).exclude(confirmed=False).exists()
    assert not StaticToken.objects.filter(device__user=admin_user).exists()


def test_new_backup_codes_replace_the_old(admin_client, admin_user):
    key, old = enrol(admin_client)
    response = admin_client.post(TWO_FACTOR, {"action": "backup-codes", "code": code_for(key, 1)})
    assert response.status_code == HTTPStatus.OK
    new = set(StaticToken.objects.filter(device__user=admin_user).values_list("token", flat=True))
    assert len(new) == 10 and not new & set(old)


# -- ADMIN_REQUIRE_2FA ------------------------------------------------------------------


def test_required_for_superusers_sends_them_to_enrolment_first(admin_client, admin_user, settings):
    settings.ADMIN_REQUIRE_2FA = "superuser"
    response = admin_client.get("/admin/crm/customer/")
    assert (response.status_code, response["Location"]) == (302, f"{TWO_FACTOR}?next=/admin/crm/customer/")
    page = admin_client.get(TWO_FACTOR).content.decode()
    assert "Your account must use two-factor sign-in. Set it up now to continue." in page
    enrol(admin_client)
    assert admin_client.get("/admin/crm/customer/").status_code == HTTPStatus.OK


def test_required_for_superusers_leaves_other_staff_alone(client, django_user_model, settings):
    settings.ADMIN_REQUIRE_2FA = "superuser"
    client.force_login(django_user_model.objects.create_user("sam", is_staff=True))
    assert client.get("/admin/").status_code == HTTPStatus.OK


def test_required_for_all_staff(client, django_user_model, settings):
    settings.ADMIN_REQUIRE_2FA = "staff"
    client.force_login(django_user_model.objects.create_user("sam", is_staff=True))
    assert client.get("/admin/")["Location"] == f"{TWO_FACTOR}?next=/admin/"
    assert client.post("/admin/logout/").status_code == HTTPStatus.OK  # signing out stays possible


def test_an_enrolled_but_unverified_session_is_asked_for_a_code(client, admin_user, settings):
    settings.ADMIN_REQUIRE_2FA = "superuser"
    key = b"0123456789abcdefghij"
    TOTPDevice.objects.create(user=admin_user, name="authenticator app", key=key.hex(), confirmed=True)
    client.force_login(admin_user)  # e.g. signed in before enrolling elsewhere
    assert client.get("/admin/")["Location"] == f"{TWO_FACTOR}?next=/admin/"
    page = client.get(TWO_FACTOR).content.decode()
    assert "This session has not been verified with a code yet." in page
    assert client.post(TWO_FACTOR, {"action": "verify", "code": code_for(key)}).status_code == HTTPStatus.OK
    assert client.get("/admin/").status_code == HTTPStatus.OK


@pytest.mark.parametrize(
    ("value", "mode"), [("", ""), ("0", ""), ("1", "superuser"), ("superuser", "superuser"), ("staff", "staff")]
)
def test_require_2fa_values(value, mode):
    code = "from django.conf import settings as s; print(repr(s.ADMIN_REQUIRE_2FA))"
    result = manage("shell", "-v0", "-c", code, env={"DJANGO_SECRET_KEY": "x", "ADMIN_REQUIRE_2FA": value})
    assert result.stdout == f"{mode!r}\n"


def test_require_2fa_rejects_other_values():
    result = manage("check", env={"DJANGO_SECRET_KEY": "x", "ADMIN_REQUIRE_2FA": "always"})
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == (
        "django.core.exceptions.ImproperlyConfigured: ADMIN_REQUIRE_2FA='always': "
        "use 0 (optional), 1 (superusers) or staff."
    )


def test_admin_index_names_the_two_factor_apps_readably(admin_client):
    page = admin_client.get("/admin/").content.decode()
    for label, name in [("otp_totp", "Two-factor: authenticator apps"), ("otp_static", "Two-factor: backup codes")]:
        caption = f'<a href="/admin/{label}/" class="section" title="Models in the {name} application">{name}</a>'
        assert caption in page
    assert "Otp_" not in page and "OTP_" not in page
