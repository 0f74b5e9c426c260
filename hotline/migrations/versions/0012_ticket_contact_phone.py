"""core: a ticket's contact phone (a number the citizen typed), kept apart from the citizen's identities

Until now the chatbot joined a phone number typed in a request to the typer's citizen record, as if it were
one of their identities. Nobody verifies a typed number: someone else's would put that person's calls, SMS
notices and tickets on the typer's record. The number is now the ticket's ``contact_phone``.

Data repair: chatbot tickets get their contact phone back from their text (「联系电话：…」), and a phone
identity that such a ticket added to its record (created in the same instant as the ticket) is removed
again, unless the record has used the number for real since (a ticket that came in by phone, SMS or the
mayor's mailbox) or holds no other identity.

Revision ID: 0012_ticket_contact_phone
Revises: 0010_idempotency_keys
Create Date: 2026-12-07 17:40:00
"""
import re

from alembic import op
import sqlalchemy as sa

revision = '0012_ticket_contact_phone'
down_revision = '0010_idempotency_keys'
branch_labels = None
depends_on = None

CONTACT_LINE = re.compile(r"^联系电话：(.+?)\s*$", re.M)
PHONE_CHANNELS = ("phone", "sms", "mailbox")
CHAT_CHANNELS = ("web", "wechat", "telegram")  # where the chatbot files tickets

TICKETS = sa.table('tickets', sa.column('id', sa.Integer), sa.column('text', sa.Text),
                   sa.column('channel', sa.String), sa.column('citizen_id', sa.Integer),
                   sa.column('created_at', sa.DateTime), sa.column('contact_phone', sa.String))
MESSAGES = sa.table('ticket_messages', sa.column('ticket_id', sa.Integer), sa.column('direction', sa.String),
                    sa.column('meta', sa.JSON))
CITIZENS = sa.table('citizens', sa.column('id', sa.Integer), sa.column('merged_into_id', sa.Integer))
IDENTITIES = sa.table('citizen_identities', sa.column('id', sa.Integer), sa.column('citizen_id', sa.Integer),
                      sa.column('kind', sa.String), sa.column('value', sa.String),
                      sa.column('created_at', sa.DateTime))


def upgrade() -> None:
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('contact_phone', sa.String(length=40), nullable=True))
        batch_op.create_index(batch_op.f('ix_tickets_contact_phone'), ['contact_phone'], unique=False)
    _repair(op.get_bind())


def _repair(conn) -> None:
    from hotline.identity import InvalidIdentity, normalize_identity

    chatbot_ids = {r.ticket_id for r in conn.execute(
        sa.select(MESSAGES.c.ticket_id, MESSAGES.c.meta).where(MESSAGES.c.direction == 'in',
                                                               MESSAGES.c.ticket_id.is_not(None)))
        if isinstance(r.meta, dict) and r.meta.get('chatbot')}
    for ticket_id in sorted(chatbot_ids):
        ticket = conn.execute(sa.select(TICKETS).where(TICKETS.c.id == ticket_id)).first()
        if ticket is None or ticket.channel not in CHAT_CHANNELS:  # a chat follow-up on a call's ticket, say
            continue
        found = CONTACT_LINE.search(ticket.text or '')
        if found is None:
            continue
        try:
            phone = normalize_identity('phone', found.group(1)).value
        except InvalidIdentity:
            continue
        conn.execute(TICKETS.update().where(TICKETS.c.id == ticket_id).values(contact_phone=phone))
        if ticket.citizen_id is not None:
            _unlink(conn, _root(conn, ticket.citizen_id), phone, ticket.created_at)


def _root(conn, citizen_id: int) -> int:
    for _ in range(20):
        merged = conn.execute(sa.select(CITIZENS.c.merged_into_id).where(CITIZENS.c.id == citizen_id)).scalar()
        if merged is None:
            break
        citizen_id = merged
    return citizen_id


def _unlink(conn, citizen_id: int, phone: str, created_at) -> None:
    ident = conn.execute(sa.select(IDENTITIES).where(
        IDENTITIES.c.kind == 'phone', IDENTITIES.c.value == phone, IDENTITIES.c.citizen_id == citizen_id)).first()
    if ident is None or ident.created_at != created_at:
        return  # the record had the number before this ticket (a call, a letter): not typed here
    members = [citizen_id] + [r.id for r in conn.execute(
        sa.select(CITIZENS.c.id).where(CITIZENS.c.merged_into_id == citizen_id))]
    used = conn.execute(sa.select(sa.func.count()).select_from(TICKETS).where(
        TICKETS.c.citizen_id.in_(members), TICKETS.c.channel.in_(PHONE_CHANNELS))).scalar()
    others = conn.execute(sa.select(sa.func.count()).select_from(IDENTITIES).where(
        IDENTITIES.c.citizen_id == citizen_id, IDENTITIES.c.id != ident.id)).scalar()
    if used or not others:
        return
    conn.execute(IDENTITIES.delete().where(IDENTITIES.c.id == ident.id))


def downgrade() -> None:
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tickets_contact_phone'))
        batch_op.drop_column('contact_phone')
