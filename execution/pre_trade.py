"""The pre-trade gate every order passes before it is journaled and sent.

Risk limits used to be opt-in: a strategy had to remember to ask the risk manager. Now the
executors (:class:`execution.order_executor.OrderExecutor`, and through it the atomic executor)
ask a :class:`PreTradeGate` about every order - the way nautilus routes every SubmitOrder
through its risk engine - so a strategy that never mentions risk still cannot exceed the
limits. The gate raises a :class:`core.errors.RiskLimitBreached` subclass to refuse; it must
never refuse a reduce-only order (closing is always allowed).

The protocol lives here, in the execution layer; the limits themselves are the risk manager's
(:class:`strategies.risk.RiskGate`), wired in by the bot runtime.
"""

from __future__ import annotations

from typing import Protocol

from exchange_clients.base import BaseExchangeClient
from exchange_clients.types import OrderRequest


class PreTradeGate(Protocol):
    async def check(self, client: BaseExchangeClient, order: OrderRequest) -> None:
        """Return if ``order`` on ``client``'s venue may be sent; raise RiskLimitBreached if not."""
        ...
