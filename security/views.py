"""Admin sign-in in two steps (password, then a code when the user has enrolled) and the two-factor page."""

import time

import qrcode
import qrcode.image.svg
from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_lockout_response
from django import forms
from django.contrib import admin, messages
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth import get_user_model
from django.contrib.auth import login as auth_login
from django.contrib.auth.signals import user_login_failed
from django.contrib.auth.views import LoginView
from django.db import transaction
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django_otp import devices_for_user, match_token, user_has_device
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from security.middleware import two_factor_required

PENDING_KEY = "security.pending_2fa"
# The code must follow the password within this many seconds.
PENDING_SECONDS = 300
BACKUP_CODES = 10


class CodeForm(forms.Form):
    code = forms.CharField(
        label="Code",
        max_length=16,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}),
        help_text="The 6 digits your authenticator app shows, or one of your backup codes.",
    )

    def clean_code(self) -> str:
        return "".join(self.cleaned_data["code"].split())


WRONG_CODE = "That code is not valid (or was already used). Try the current one."
THROTTLED = "Too many wrong codes in a row: wait a few seconds, then enter the current code."


def _throttled(user) -> bool:
    """Whether django-otp's back-off after wrong codes (1 s, 2 s, 4 s, …) refuses any code right now."""
    return any(not device.verify_is_allowed()[0] for device in devices_for_user(user))


def _admin_context(request, **extra):
    return {**admin.site.each_context(request), **extra}


def _safe_next(request, candidate: str) -> str:
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return reverse("admin:index")


@method_decorator(sensitive_post_parameters("password"), name="dispatch")
class AdminLoginView(LoginView):
    """The admin's login form; a user with a confirmed device is sent on to the code step."""

    template_name = "admin/login.html"
    authentication_form = AdminAuthenticationForm
    redirect_authenticated_user = False
    next_page = reverse_lazy("admin:index")

    def get_context_data(self, **kwargs):
        context = {**admin.site.each_context(self.request), **super().get_context_data(**kwargs)}
        return context | {
            "title": "Log in",
            "app_path": self.request.get_full_path(),
            "username": self.request.user.get_username(),
        }

    def get(self, request, *args, **kwargs):
        if request.user.is_authenticated and request.user.is_staff:
            return redirect(_safe_next(request, request.GET.get("next", "")))
        return super().get(request, *args, **kwargs)

    def form_valid(self, form):
        user = form.get_user()
        if not user_has_device(user):
            return super().form_valid(form)
        # Not signed in yet: the session only remembers who passed the first step, and when.
        self.request.session[PENDING_KEY] = {
            "user": user.pk,
            "backend": user.backend,
            "at": time.time(),
            "next": self.get_success_url(),
        }
        return redirect("security:login-verify")


@method_decorator([never_cache, csrf_protect, sensitive_post_parameters("code")], name="dispatch")
class LoginVerifyView(View):
    """The second step: a TOTP code or a backup code for the user who passed the password step."""

    template = "security/login_verify.html"

    def _pending_user(self, request):
        pending = request.session.get(PENDING_KEY)
        if not pending or time.time() - pending["at"] > PENDING_SECONDS:
            return None, None
        user = get_user_model()._default_manager.filter(pk=pending["user"], is_active=True).first()
        return user, pending

    def _restart(self, request):
        request.session.pop(PENDING_KEY, None)
        messages.error(request, "Your sign-in took too long or was not started. Please log in again.")
        return redirect("admin:login")

    def get(self, request):
        user, _ = self._pending_user(request)
        if user is None:
            return self._restart(request)
        return render(request, self.template, _admin_context(request, title="Two-factor sign-in", form=CodeForm()))

    def post(self, request):
        user, pending = self._pending_user(request)
        if user is None:
            return self._restart(request)
        credentials = {"username": user.get_username()}
        if AxesProxyHandler.is_locked(request, credentials):
            return get_lockout_response(request, credentials=credentials)
        form = CodeForm(request.POST)
        throttled = _throttled(user)
        device = match_token(user, form.cleaned_data["code"]) if form.is_valid() else None
        if device is None:
            # Counts towards the lockout like a wrong password: six digits are guessable otherwise.
            user_login_failed.send(sender=__name__, credentials=credentials, request=request)
            if getattr(request, "axes_locked_out", False):
                return get_lockout_response(request, credentials=credentials)
            form.add_error(None, THROTTLED if throttled else WRONG_CODE)
            return render(request, self.template, _admin_context(request, title="Two-factor sign-in", form=form))
        del request.session[PENDING_KEY]
        auth_login(request, user, backend=pending["backend"])
        otp_login(request, device)
        return redirect(_safe_next(request, pending["next"]))


def qr_svg(data: str) -> str:
    """The QR code of data as an inline SVG element, made here (no third-party service sees the secret)."""
    image = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=2)
    return image.to_string(encoding="unicode")


def _base32_groups(device: TOTPDevice) -> str:
    import base64

    secret = base64.b32encode(device.bin_key).decode("ascii").rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def _new_backup_codes(user) -> list[str]:
    """Replace the user's backup codes with BACKUP_CODES new single-use ones."""
    with transaction.atomic():
        device, _ = StaticDevice.objects.get_or_create(user=user, name="backup", defaults={"confirmed": True})
        device.token_set.all().delete()
        codes = [StaticToken.random_token() for _ in range(BACKUP_CODES)]
        StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    return codes


@method_decorator([never_cache, sensitive_post_parameters("code")], name="dispatch")
@method_decorator(staff_member_required, name="dispatch")
class TwoFactorView(View):
    """A staff user's own page: enrol an authenticator app, new backup codes, turn two factors off."""

    template = "security/two_factor.html"

    def _totp(self, user, confirmed: bool):
        return TOTPDevice.objects.filter(user=user, confirmed=confirmed).order_by("pk").first()

    def _page(self, request, status=200, **extra):
        user = request.user
        device = self._totp(user, True)
        context = {"title": "Two-factor sign-in", "device": device, "required": two_factor_required(user)}
        if device is None:
            pending = self._totp(user, False) or TOTPDevice.objects.create(
                user=user, name="authenticator app", confirmed=False
            )
            context |= {"qr": mark_safe(qr_svg(pending.config_url)), "secret": _base32_groups(pending)}  # noqa: S308
        else:
            static = StaticDevice.objects.filter(user=user, name="backup").first()
            context["backup_left"] = static.token_set.count() if static else 0
            context["verified"] = user.is_verified()
        context.setdefault("form", CodeForm())
        context |= extra
        response = render(request, self.template, _admin_context(request, **context), status=status)
        response["Cache-Control"] = "no-store"  # the secret and backup codes stay out of caches
        return response

    def get(self, request):
        return self._page(request)

    def post(self, request):
        action = request.POST.get("action", "")
        form = CodeForm(request.POST)
        user = request.user
        if not form.is_valid():
            return self._page(request, status=400, form=form)
        code = form.cleaned_data["code"]
        if action == "enrol":
            device = self._totp(user, False)
            if device is None or not device.verify_token(code):
                form.add_error("code", "That code does not match. Check the time on your phone and try again.")
                return self._page(request, status=400, form=form)
            with transaction.atomic():
                device.confirmed = True
                device.save(update_fields=["confirmed"])
            otp_login(request, device)
            codes = _new_backup_codes(user)
            return self._page(request, backup_codes=codes, done="Two-factor sign-in is on.")
        # Every other action needs a valid code from one of the user's devices.
        throttled = _throttled(user)
        device = match_token(user, code)
        if device is None:
            form.add_error("code", THROTTLED if throttled else WRONG_CODE)
            return self._page(request, status=400, form=form)
        if not user.is_verified():
            otp_login(request, device)
        if action == "backup-codes":
            return self._page(request, backup_codes=_new_backup_codes(user), done="New backup codes made.")
        if action == "disable":
            with transaction.atomic():
                for each in devices_for_user(user, confirmed=None):
                    each.delete()
            messages.success(request, "Two-factor sign-in is off.")
            return redirect("security:two-factor")
        return self._page(request, done="This session is verified.")
