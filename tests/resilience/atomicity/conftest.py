"""The E16 world (resilience/atomicity/operations.py) for the atomicity tests."""
import pytest

from resilience.atomicity.operations import NudgesOff, world_seed


@pytest.fixture
def e16_world(transactional_db):
    """The E16 customers (funded read-model accounts), with the after-commit nudges switched off."""
    with NudgesOff():
        yield world_seed(customers=3)
