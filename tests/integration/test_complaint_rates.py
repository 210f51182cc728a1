"""complaint_rates: per mailbox and per sending domain, the messages delivered in 7 and 30 days
and the people among them who complained, each person once. Counted from the mailboxes' index
of sent mail and from the contacts who complained (migration 20261204001200), with the same
answers as counting every message with its contact."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests import factories as f
from tests.helpers import as_role

# The view's answer, computed the long way: every message of 30 days joined to its contact.
COUNTED = """
SELECT s.scope, s.mailbox_id, s.domain,
       count(s.sent_at) FILTER (WHERE s.sent_at > now() - interval '7 days'),
       count(DISTINCT s.contact_id) FILTER (WHERE s.complained AND s.sent_at > now() - interval '7 days'),
       count(s.sent_at),
       count(DISTINCT s.contact_id) FILTER (WHERE s.complained)
FROM (
  SELECT x.scope, CASE WHEN x.scope = 'mailbox' THEN m.id END AS mailbox_id, split_part(m.email, '@', 2) AS domain, fl.contact_id, fl.sent_at,
         ct.reached_status = 'complained' AS complained
  FROM mailboxes m
  CROSS JOIN (VALUES ('mailbox'), ('domain')) x (scope)
  LEFT JOIN outreach_flows fl ON fl.mailbox_id = m.id AND fl.status = 'sent' AND fl.sent_at > now() - interval '30 days'
  LEFT JOIN contacts ct ON ct.id = fl.contact_id
  WHERE m.organization_id = %(org)s
) s
GROUP BY s.scope, s.mailbox_id, s.domain
"""


def rates(conn, org):
    return sorted(
        conn.execute(
            "SELECT scope, mailbox_id, domain, delivered_7d, complaints_7d, delivered_30d, complaints_30d"
            " FROM complaint_rates WHERE organization_id = %s",
            (org,),
        ).fetchall(),
        key=str,
    )


def counted(conn, org):
    return sorted(conn.execute(COUNTED, {"org": org}).fetchall(), key=str)


def test_complaint_rates_count_each_window_and_each_person_once(conn, database_url):
    org = f.org(conn)
    member = f.user(conn)
    f.member(conn, org, member, "member")
    campaign = f.campaign(conn, org)

    def mailbox(address):
        return conn.execute(
            "SELECT public.add_mailbox(%s, %s, 'smtp://u:p@smtp.example:587')", (org, address)
        ).fetchone()[0]

    ana, bo, cy = mailbox("ana@team.example"), mailbox("bo@team.example"), mailbox("cy@other.example")
    idle = mailbox("dee@team.example")  # sent nothing: a row of zeros
    now = datetime.now(UTC)

    def person(n, complained=False):
        contact = f.contact(conn, org, f"p{n}@company-{n}.example")
        if complained:
            conn.execute("UPDATE contacts SET reached_status = 'complained' WHERE id = %s", (contact,))
        return contact

    def sent(contact, box, days_ago, step=0, status="sent"):
        f.flow(
            conn,
            campaign,
            contact,
            step=step,
            status=status,
            mailbox_id=box,
            sent_at=now - timedelta(days=days_ago),
        )

    both = person(1, complained=True)  # written from two mailboxes of one domain, this week
    sent(both, ana, 1)
    sent(both, bo, 2, step=1)
    late = person(2, complained=True)  # written 10 days ago: in the 30 days only
    sent(late, cy, 10)
    old = person(3, complained=True)  # 40 days ago: in neither window
    sent(old, ana, 40)
    for n in range(4, 9):  # people who did not complain
        sent(person(n), ana, n)
    sent(person(9), bo, 0, status="sending")  # not delivered yet

    got = rates(conn, org)
    assert got == counted(conn, org)
    assert got == sorted(
        [
            ("domain", None, "other.example", 0, 0, 1, 1),
            ("domain", None, "team.example", 5, 1, 7, 1),  # the person who complained, once
            ("mailbox", ana, "team.example", 4, 1, 6, 1),
            ("mailbox", bo, "team.example", 1, 1, 1, 1),
            ("mailbox", cy, "other.example", 0, 0, 1, 1),
            ("mailbox", idle, "team.example", 0, 0, 0, 0),
        ],
        key=str,
    )
    # A member reads the same; another organization's mailboxes never show.
    stranger = f.org(conn)
    conn.execute(
        "SELECT public.add_mailbox(%s, 'eve@team.example', 'smtp://u:p@smtp.example:587')", (stranger,)
    )
    with as_role(database_url, "authenticated", member) as api:
        seen = api.execute(
            "SELECT scope, mailbox_id, domain, delivered_7d, complaints_7d, delivered_30d, complaints_30d"
            " FROM complaint_rates"
        ).fetchall()
    assert sorted(seen, key=str) == got
