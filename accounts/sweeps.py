from core.sweeps import DeadlineSweep, register_deadlines

from . import emails, rules
from .rules import OutboxAction

# Not a locked sweep: that runs each row's service inside a transaction that holds the row, and a
# mail must be sent with no transaction open (email_send claims the row itself).
register_deadlines(
    rules.outbox,
    DeadlineSweep(
        "outbox",
        (OutboxAction.RETRY, OutboxAction.RECLAIM),
        emails.email_send,
        "email_id",
        "письма, которые не ушли с первого раза или ждут повтора",
        limit=emails.SWEEP_BATCH_SIZE,
        locked=False,
    ),
)
