from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm, AdminUserCreationForm
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.forms import ModelForm
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts import services
from accounts.admin_reads import AuditedReadsAdmin, ClinicalRecordAdmin
from accounts.forms import PasswordThroughTheService
from accounts.models import ApiToken, AuditEvent, Clinic, Invitation, Patient, User


def _sign_in_through_the_login_page(
    request: HttpRequest, extra_context: dict[str, Any] | None = None
) -> HttpResponse:
    """The admin's own login form would skip the sign-in throttles and the two-factor step;
    operators sign in on the login page like everybody else."""
    if request.user.is_authenticated:
        # Signed in without admin rights: the admin's login page would only say so.
        raise PermissionDenied(gettext("This account cannot use the Django admin."))
    return redirect_to_login(request.GET.get("next") or reverse("admin:index"))


admin.site.login = _sign_in_through_the_login_page  # type: ignore[method-assign]


def _actor(request: HttpRequest) -> User | None:
    return request.user if isinstance(request.user, User) else None


@admin.register(Clinic)
class ClinicAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "require_two_factor", "created_at")
    list_filter = ("require_two_factor",)
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}

    def save_model(self, request: HttpRequest, obj: Clinic, form: ModelForm, change: bool) -> None:
        super().save_model(request, obj, form, change)
        actor = _actor(request)
        if change and "require_two_factor" in form.changed_data and actor is not None:
            # The same consequences as the clinic admin's page: audit, and revoke the API
            # tokens of staff without an authenticator when it is turned on.
            services.clinic_two_factor_set(actor=actor, clinic=obj, required=obj.require_two_factor)


class RevokingPasswordChangeForm(PasswordThroughTheService, AdminPasswordChangeForm):
    """The admin's "change password" form."""


# Django's own mixins disagree on set_password_and_save's signature (SetUnusablePasswordMixin).
class ServiceUserCreationForm(PasswordThroughTheService, AdminUserCreationForm):  # type: ignore[misc]
    """The admin's "add user" form."""


@admin.register(User)
class UserAdmin(AuditedReadsAdmin, DjangoUserAdmin):
    """Operators edit accounts here (deactivation, a password, a role or clinic); each change is
    audited. Users include patients, so reading them is audited too."""

    ordering = ("email",)
    list_display = ("email", "first_name", "last_name", "role", "clinic", "is_active")
    list_filter = ("role", "clinic", "is_active", "is_staff")
    search_fields = ("email", "first_name", "last_name")
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (_("Person"), {"fields": ("first_name", "last_name")}),
        (_("Clinic"), {"fields": ("role", "clinic")}),
        (_("Access"), {"fields": ("is_active", "is_staff", "is_superuser", "groups")}),
        (_("Dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {"classes": ("wide",), "fields": ("email", "password1", "password2", "role", "clinic")},
        ),
    )
    change_password_form = RevokingPasswordChangeForm
    patient_id_path = "patient.pk"
    add_form = ServiceUserCreationForm

    def save_model(self, request: HttpRequest, obj: User, form: ModelForm, change: bool) -> None:
        assert isinstance(request.user, User)  # the admin is for signed-in operators
        deactivating = change and "is_active" in form.changed_data and not obj.is_active
        if deactivating:
            # Save the other changes first; the service then deactivates and revokes tokens.
            obj.is_active = True
        super().save_model(request, obj, form, change)
        # The admin's own transaction holds the save and these rows together.
        services.user_saved_by_operator(
            actor=request.user,
            user=obj,
            created=not change,
            changed_fields=[f for f in form.changed_data if f != "is_active" or not deactivating],
            previous_clinic_id=form.initial.get("clinic"),
        )
        if deactivating:
            services.user_deactivate(actor=request.user, user=obj)


@admin.register(Patient)
class PatientAdmin(ClinicalRecordAdmin):
    """Read-only, reads audited: patients are created, reassigned and erased by the services."""

    list_display = ("__str__", "therapist", "timezone", "created_at")
    list_select_related = ("user", "therapist")
    search_fields = ("user__email", "user__first_name", "user__last_name")
    list_filter = ("user__clinic",)
    raw_id_fields = ("user", "therapist")
    patient_id_path = "pk"


@admin.register(Invitation)
class InvitationAdmin(ClinicalRecordAdmin):
    """Read-only, reads audited: an invitation names a patient's account, and is issued and
    accepted only through the services (pointing one at another account here would hand that
    account to whoever holds the link)."""

    list_display = ("user", "created_at", "expires_at", "used_at")
    readonly_fields = ("token_digest",)
    raw_id_fields = ("user", "created_by")
    patient_id_path = "user.patient.pk"


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Read-only, with one audited way to act: revoking. A token is a credential: an editable
    row would let an operator hand a patient's live token to another user, or revive a revoked
    one, with no trace."""

    list_display = ("user", "created_at", "expires_at", "last_used_at", "revoked_at")
    readonly_fields = ("user", "key_digest", "created_at", "expires_at", "last_used_at")
    actions = ("revoke_selected",)

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    @admin.action(description=_("Revoke the selected tokens"))
    def revoke_selected(self, request: HttpRequest, queryset: Any) -> None:
        actor = _actor(request)
        assert actor is not None  # the admin is for signed-in operators
        revoked = services.api_tokens_revoke_by_operator(actor=actor, tokens=list(queryset))
        self.message_user(request, gettext("Tokens revoked: %(count)s.") % {"count": revoked})


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: the audit trail is append-only, including here."""

    list_display = ("created_at", "actor", "action", "object_type", "object_id", "ip_address")
    list_filter = ("action", "clinic")
    search_fields = ("object_id", "actor__email")

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False
