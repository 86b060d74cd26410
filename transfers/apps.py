from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TransfersConfig(AppConfig):
    name = "transfers"
    verbose_name = _("振込")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Declare the transfer aggregate, its projection, the saga's outbox handlers and its checks."""
        from outbox import registry
        from outbox.eventstore import registry as eventstore_registry
        from transfers import events as ev
        from transfers import outbox_handlers as handlers
        from transfers.invariants import register_transfer_checks
        from transfers.projections import (
            PROJECTION_NAME,
            transfer_fold,
            transfer_initial_state,
            transfer_projection_apply,
            transfer_projection_apply_batch,
            transfer_projection_reset,
            transfer_row_write,
        )

        eventstore_registry.register_aggregate(ev.AGGREGATE_TYPE, event_types=ev.EVENT_TYPES, fold=transfer_fold,
                                    initial_state=transfer_initial_state)
        eventstore_registry.register_projection(PROJECTION_NAME, apply=transfer_projection_apply,
                                     apply_batch=transfer_projection_apply_batch, row_write=transfer_row_write,
                                     reset=transfer_projection_reset, aggregate_types={ev.AGGREGATE_TYPE})
        registry.register_handler(ev.KIND_WITHDRAW, handlers.WithdrawHandler())
        registry.register_handler(ev.KIND_DEPOSIT, handlers.DepositHandler())
        registry.register_handler(ev.KIND_REFUND, handlers.RefundHandler())
        registry.register_handler(ev.KIND_MAIL_COMPLETED, handlers.TransferCompletedMailHandler())
        registry.register_handler(ev.KIND_MAIL_FAILED, handlers.TransferFailedMailHandler())
        register_transfer_checks()
