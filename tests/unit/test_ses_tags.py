"""SES message tags on briefs: valid by SES's rules, and sent as SendEmail's EmailTags."""

from __future__ import annotations

import boto3
import pytest
from botocore.stub import ANY, Stubber

from handoff.aws.mailer import SesMailer
from handoff.domain.lead import lead_id_for
from handoff.email.render import RenderedEmail
from handoff.email.send import Envelope
from handoff.service.notify import brief_tags


def test_every_lead_id_makes_a_valid_tag() -> None:
    # lead ids are "ld_" + 24 hex digits: letters, digits and an underscore, well under 256.
    lead_id = lead_id_for("website", "any event id, even one with spaces / and ünïcode")
    envelope = Envelope(sender="handoff@example.com", to="r1@example.com", tags=brief_tags(lead_id))
    assert dict(envelope.tags) == {"lead_id": lead_id, "kind": "brief"}


@pytest.mark.parametrize(
    "tag",
    [
        ("lead_id", "ld 1"),
        ("lead_id", "ld.1"),
        ("lead_id", "ld_é"),
        ("lead_id", ""),
        ("", "x"),
        ("k", "x" * 257),
    ],
)
def test_tags_ses_would_refuse_are_refused_before_sending(tag: tuple[str, str]) -> None:
    with pytest.raises(ValueError, match="SES message tag"):
        Envelope(sender="handoff@example.com", to="r1@example.com", tags=(tag,))


def test_a_tag_of_256_characters_is_fine() -> None:
    Envelope(sender="handoff@example.com", to="r1@example.com", tags=(("k" * 256, "v-_9" * 64),))


def test_tags_go_out_as_email_tags() -> None:
    ses = boto3.client("sesv2", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    lead_id = lead_id_for("website", "e1")
    expected = {
        "FromEmailAddress": "handoff@example.com",
        "Destination": {"ToAddresses": ["r1@example.com"]},
        "Content": ANY,
        "ConfigurationSetName": "handoff",
        "EmailTags": [{"Name": "lead_id", "Value": lead_id}, {"Name": "kind", "Value": "brief"}],
    }
    envelope = Envelope(
        sender="handoff@example.com",
        to="r1@example.com",
        configuration_set="handoff",
        tags=brief_tags(lead_id),
    )
    with Stubber(ses) as stub:  # the stub also checks the request against the SES v2 model
        stub.add_response("send_email", {"MessageId": "m1"}, expected)
        assert SesMailer(ses).send(RenderedEmail(subject="s", text="t", html="<p>t</p>"), envelope) == "m1"
        stub.assert_no_pending_responses()


def test_untagged_emails_send_no_email_tags() -> None:
    ses = boto3.client("sesv2", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    expected = {
        "FromEmailAddress": "handoff@example.com",
        "Destination": {"ToAddresses": ["ops@example.com"]},
        "Content": ANY,
    }
    with Stubber(ses) as stub:
        stub.add_response("send_email", {"MessageId": "m2"}, expected)
        email = RenderedEmail(subject="s", text="t", html="<p>t</p>")
        assert (
            SesMailer(ses).send(email, Envelope(sender="handoff@example.com", to="ops@example.com")) == "m2"
        )
