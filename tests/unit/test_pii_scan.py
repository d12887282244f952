"""The e2e log scan finds what it looks for, and only that."""

from __future__ import annotations

from tests.e2e.pii import personal_data_in, sample_names


def test_the_scan_flags_emails_phones_and_sample_names() -> None:
    assert {"Dana", "Kim", "Rivera", "Ortiz"} <= sample_names()
    lines = [
        '{"message": "lead qualified", "lead_id": "ld_0123456789abcdef01234567", "tier": "hot"}',
        '{"message": "email sent", "to": "dana.kim@tallyhq.example"}',
        '{"message": "calling", "phone": "+1 646 555 0142"}',
        '{"message": "assigned", "rep": "Ana Ortiz"}',
        '{"timestamp": "2026-11-24 17:43:26,457+0000", "level": "INFO"}',
    ]
    assert personal_data_in(lines) == lines[1:4]
