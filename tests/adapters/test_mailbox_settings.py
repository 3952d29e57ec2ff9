"""Conformance: the rep's mailbox settings in the CRM (rule 15).

Every adapter answers `MailboxSettings`. A CRM that needs server-side synchronization (Dynamics
365) asks it; the backends' CRMs start with the rep's mailbox synchronized and approved and the
usual tracking option. A CRM without such settings answers the default and makes no request.
"""

from __future__ import annotations

import pytest

from crm_adapters import CrmError
from crm_adapters.models import MailboxSettings


def test_every_adapter_answers_its_mailbox_settings(adapter):
    before = adapter.round_trips
    settings = adapter.mailbox_settings()
    assert isinstance(settings, MailboxSettings)
    asked = adapter.round_trips - before
    if adapter.capabilities.needs_server_side_sync:
        assert settings == MailboxSettings(server_side_sync=True, track_replies=True, problem="")
        assert 1 <= asked <= 2
    else:
        assert settings == MailboxSettings(server_side_sync=None, track_replies=True, problem="")
        assert asked == 0


def test_a_crm_down_fails_only_where_there_is_something_to_ask(down):
    if down.capabilities.needs_server_side_sync:
        with pytest.raises(CrmError) as raised:
            down.mailbox_settings()
        assert raised.value.retryable
    else:
        assert down.mailbox_settings() == MailboxSettings(server_side_sync=None)
        assert down.round_trips == 0
