"""Hypothesis rule-based state machine over the saga table (flows.md §5.6): random legal and illegal steps;
illegal transitions are refused, the fold agrees with the table, money is conserved and terminal states
hold no suspense."""
import datetime as dt

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from outbox.eventstore.models import Event
from transfers import events as ev
from transfers import saga
from transfers.projections import transfer_fold, transfer_initial_state

ALL_STEPS = sorted({key for table in saga.TRANSITIONS.values() for key in table}, key=str)
# Phases that exist only inside one transaction (the second event of the batch always follows).
TRANSIENT = {saga.RECEIVED, saga.WITHDRAWN, saga.WITHDRAW_REFUSED, saga.DEPOSITED, saga.DEPOSIT_REFUSED,
             saga.REFUNDED}
AMOUNT = 1000


class SagaMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.phase = saga.NEW
        self.state = transfer_initial_state()
        self.version = 0
        self.money = {"source": 10_000, "target": 0, "suspense": 0}

    def _event(self, event_type, outcome):
        status = outcome or {ev.TRANSFER_REQUESTED: "RECEIVED", ev.TRANSFER_REJECTED: "REJECTED"}.get(event_type, "x")
        self.version += 1
        return Event(aggregate_id="transfer-t", aggregate_type="transfer", version=self.version, type=event_type,
                     status=status, leg=None, position=self.version,
                     data={"transactionId": "t", "amount": AMOUNT, "success": outcome == "completed",
                           "result": {"coreTransactionId": "X"}},
                     metadata={}, recorded_at=dt.datetime(2025, 1, 1, tzinfo=dt.UTC))

    @rule(data=st.data())
    def legal_step(self, data):
        options = sorted(saga.TRANSITIONS[self.phase], key=str)
        if not options:
            return
        event_type, outcome = data.draw(st.sampled_from(options))
        before = self.phase
        self.phase = saga.next_phase(self.phase, event_type, outcome or "")
        self.state = transfer_fold(self.state, self._event(event_type, outcome))
        if before in (saga.WITHDRAW_REQUESTED, saga.WITHDRAW_PROCESSING) and self.phase == saga.WITHDRAWN:
            self.money["source"] -= AMOUNT
            self.money["suspense"] += AMOUNT
        elif self.phase == saga.DEPOSITED:
            self.money["suspense"] -= AMOUNT
            self.money["target"] += AMOUNT
        elif self.phase == saga.REFUNDED:
            self.money["suspense"] -= AMOUNT
            self.money["source"] += AMOUNT

    @rule(step=st.sampled_from(ALL_STEPS))
    def illegal_step_is_refused(self, step):
        event_type, outcome = step
        if step in saga.TRANSITIONS[self.phase]:
            return
        try:
            saga.next_phase(self.phase, event_type, outcome or "")
        except saga.IllegalTransitionError:
            return
        raise AssertionError(f"{step} accepted in {self.phase}")

    @invariant()
    def fold_agrees_with_the_table(self):
        assert self.state["phase"] == self.phase
        assert self.state["terminal"] == saga.is_terminal(self.phase)

    @invariant()
    def money_is_conserved_and_suspense_matches_the_phase(self):
        assert sum(self.money.values()) == 10_000
        assert (self.money["suspense"] == AMOUNT) == (self.phase in saga.SUSPENSE_PHASES)

    @invariant()
    def every_resting_open_phase_has_a_driving_leg(self):
        if not saga.is_terminal(self.phase) and self.phase not in TRANSIENT and self.phase != saga.NEW:
            assert self.phase in saga.DRIVING_LEG

    @precondition(lambda self: saga.is_terminal(self.phase))
    @rule()
    def terminal_has_no_way_out(self):
        assert saga.TRANSITIONS[self.phase] == {}


TestSagaMachine = SagaMachine.TestCase
TestSagaMachine.settings = settings(max_examples=150, stateful_step_count=20, deadline=None)
