"""All ORM models; importing this package registers every table on ``Base.metadata``."""

from database.models import paper as paper  # the paper venue's tables (database.models.paper)
from database.models.accounts import MAIN_ACCOUNT, Account, AccountCredential
from database.models.audit import AuditLogEntry
from database.models.backtest import BacktestEquityPoint, BacktestRun, BacktestTrade
from database.models.base import Base
from database.models.bots import Bot
from database.models.dashboard import DashboardSession, DashboardUser
from database.models.market import FundingRate, FundingRateLatest
from database.models.operations import AtomicOperation
from database.models.pnl import PnlSnapshot
from database.models.positions import FundingPayment, Position, PositionLeg
from database.models.proxies import AccountProxyAssignment, Proxy
from database.models.reference import AppSetting, Venue
from database.models.signals import (
    Candle,
    FundingOiSnapshot,
    PolymarketSnapshot,
    SignalRecord,
    SignalTrade,
)
from database.models.strategy_state import StrategyState
from database.models.telegram import TelegramSubscription, TelegramUser
from database.models.trading import Fill, Order, PendingIntent, ReservedOrderId

__all__ = [
    "MAIN_ACCOUNT",
    "Account",
    "AccountCredential",
    "AccountProxyAssignment",
    "AppSetting",
    "AtomicOperation",
    "AuditLogEntry",
    "BacktestEquityPoint",
    "BacktestRun",
    "BacktestTrade",
    "Base",
    "Bot",
    "Candle",
    "DashboardSession",
    "DashboardUser",
    "Fill",
    "FundingOiSnapshot",
    "FundingPayment",
    "FundingRate",
    "FundingRateLatest",
    "Order",
    "PendingIntent",
    "PnlSnapshot",
    "PolymarketSnapshot",
    "Position",
    "PositionLeg",
    "Proxy",
    "ReservedOrderId",
    "SignalRecord",
    "SignalTrade",
    "StrategyState",
    "TelegramSubscription",
    "TelegramUser",
    "Venue",
]
