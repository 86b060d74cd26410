"""Online-banking users. A custom user model from the first migration, so later fields never need a swap."""
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class User(AbstractUser):
    """A login of the online bank (username = the bank-issued loginId, e.g. `user001`).

    `public_id` is the wire `userId` (`USER001` for the seeded users, a UUID for new ones);
    `customer_id` / `primary_account_id` link the login to its core-banking customer and account.
    """

    public_id = models.CharField(_("user id"), max_length=64, unique=True, null=True, blank=True)
    customer_id = models.CharField(_("customer id"), max_length=32, unique=True, null=True, blank=True)
    primary_account_id = models.CharField(_("primary account id"), max_length=10, blank=True, default="")
    must_change_password = models.BooleanField(_("must change password"), default=False)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
