"""The one place that puts the store together: which repository, AWS adapter
and service each function uses, built from the settings.

Every function gets its collaborators from `wiring()` (its HTTP dependencies or
its handler), built lazily, once per process: a function builds only what it
uses (the catalog never creates an AWS client). Tests build services directly
with fakes instead (tests/unit/fakes.py).
"""

from __future__ import annotations

from datetime import timedelta
from functools import cache, cached_property

from store import aws
from store.audit import AuditLog
from store.breakers import breaker
from store.cart import CartRepository, RecentViews
from store.catalog import ProductRepository
from store.checkout import Checkout
from store.config import Settings, get_settings
from store.db import Database, get_database
from store.deliveries import NotificationDeliveries
from store.idempotency import CassandraIdempotencyStore, DeliveryMarks
from store.notifications import NotificationInbox, Notifier
from store.order_payments import OrderPayments
from store.order_work import OrderCompleter, OrderWorkPointers
from store.orders import OrderActions, OrderRepository
from store.outbox import Outbox, OutboxRelay
from store.payments import PaymentLedger, PaymentRepository, SimulatedProvider
from store.popular import PopularProducts, ProductSales
from store.ports import Channel
from store.profile import DatabaseSources, GuardedSources
from store.reservations import CheckoutIntents, ReservationSweeper
from store.templates import TemplateStore
from store.throttle import (
    LoginThrottle,
    Throttle,
    notification_allowance,
    password_confirmation_throttle,
    registration_throttle,
)
from store.users import UserRepository
from store.workflow import LifecycleStarter, LifetimeStats, OrderWorkflow


class Wiring:
    def __init__(self, settings: Settings, database: Database) -> None:
        self.settings = settings
        self.database = database

    # -- repositories (Cassandra)

    @cached_property
    def products(self) -> ProductRepository:
        return ProductRepository(self.database)

    @cached_property
    def carts(self) -> CartRepository:
        return CartRepository(self.database, self.products)

    @cached_property
    def recent_views(self) -> RecentViews:
        return RecentViews(self.database, self.products)

    @cached_property
    def outbox(self) -> Outbox:
        return Outbox(self.database)

    @cached_property
    def checkout_intents(self) -> CheckoutIntents:
        return CheckoutIntents(self.database)

    @cached_property
    def orders(self) -> OrderRepository:
        return OrderRepository(self.database, self.outbox, self.checkout_intents)

    @cached_property
    def audit(self) -> AuditLog:
        return AuditLog(self.database)

    @cached_property
    def sales(self) -> ProductSales:
        return ProductSales(self.database)

    @cached_property
    def popular(self) -> PopularProducts:
        """Its cache lives as long as the process (one function worker)."""
        return PopularProducts(self.sales, self.products)

    @cached_property
    def users(self) -> UserRepository:
        return UserRepository(self.database)

    @cached_property
    def login_throttle(self) -> LoginThrottle:
        return LoginThrottle(self.database, self.settings)

    @cached_property
    def registration_throttle(self) -> Throttle:
        return registration_throttle(self.database, self.settings)

    @cached_property
    def password_throttle(self) -> Throttle:
        return password_confirmation_throttle(self.database, self.settings)

    @cached_property
    def lifetime_stats(self) -> LifetimeStats:
        return LifetimeStats(self.database)

    @cached_property
    def idempotency_store(self) -> CassandraIdempotencyStore:
        return CassandraIdempotencyStore(self.database)

    @cached_property
    def inbox(self) -> NotificationInbox:
        return NotificationInbox(self.database)

    # -- AWS adapters and the payment provider

    @cached_property
    def relay(self) -> OutboxRelay | None:
        """None when no topic is configured: events then stay pending in the outbox."""
        topic = self.settings.order_events_topic_arn
        if not topic:
            return None
        return OutboxRelay(self.outbox, aws.SnsEventPublisher(topic), breaker=breaker("outbox_publish", self.settings))

    @cached_property
    def workflow_control(self) -> aws.StepFunctionsControl | None:
        arn = self.settings.order_state_machine_arn
        return aws.StepFunctionsControl(arn) if arn else None

    @cached_property
    def channels(self) -> list[Channel]:
        """Email when a sender is configured (verified in SES); SMS always."""
        sender = self.settings.notifications_sender
        return [*([aws.SesEmail(sender)] if sender else []), aws.SnsSms()]

    @cached_property
    def payment_records(self) -> PaymentRepository:
        return PaymentRepository(self.database)

    @cached_property
    def payments(self) -> PaymentLedger:
        return PaymentLedger(self.payment_records, SimulatedProvider.from_settings(self.settings))

    @cached_property
    def order_payments(self) -> OrderPayments:
        return OrderPayments(self.payment_records)

    # -- services

    @cached_property
    def checkout(self) -> Checkout:
        return Checkout(
            carts=self.carts,
            products=self.products,
            orders=self.orders,
            intents=self.checkout_intents,
            relay=self.relay,
            intent_lifetime=timedelta(seconds=self.settings.checkout_intent_seconds),
            sales=self.sales,
        )

    @cached_property
    def reservation_sweeper(self) -> ReservationSweeper:
        return ReservationSweeper(intents=self.checkout_intents, orders=self.orders, products=self.products)

    @cached_property
    def work_pointers(self) -> OrderWorkPointers:
        return OrderWorkPointers(self.database)

    @cached_property
    def order_completer(self) -> OrderCompleter:
        return OrderCompleter(
            orders=self.orders,
            products=self.products,
            outbox=self.outbox,
            relay=self.relay,
            refunds=self.payments,
            workflow=self.workflow_control,
            pointers=self.work_pointers,
        )

    @cached_property
    def order_actions(self) -> OrderActions:
        return OrderActions(orders=self.orders, pointers=self.work_pointers, completer=self.order_completer)

    @cached_property
    def order_workflow(self) -> OrderWorkflow:
        return OrderWorkflow(
            orders=self.orders, actions=self.order_actions, payments=self.payments, stats=self.lifetime_stats
        )

    @cached_property
    def lifecycle_starter(self) -> LifecycleStarter:
        if self.workflow_control is None:
            raise RuntimeError("ORDER_STATE_MACHINE_ARN is not set: the starter has no state machine to start")
        return LifecycleStarter(self.workflow_control, self.settings.order_time_scale)

    @cached_property
    def notifier(self) -> Notifier:
        return Notifier(
            marks=DeliveryMarks(self.database, "notifications"),
            inbox=self.inbox,
            users=self.users,
            channels=self.channels,
            templates=self.templates,
            deliveries=self.deliveries,
            language=self.settings.notifications_language,
            allow=notification_allowance(self.database, self.settings),
        )

    @cached_property
    def templates(self) -> TemplateStore:
        return TemplateStore(self.database)

    @cached_property
    def deliveries(self) -> NotificationDeliveries:
        return NotificationDeliveries(self.database)

    @cached_property
    def profile_sources(self) -> GuardedSources:
        return GuardedSources(
            DatabaseSources(self.carts, self.orders, self.lifetime_stats, self.inbox, self.order_payments)
        )


@cache
def wiring() -> Wiring:
    """The process's wiring (one Cassandra session, one client per AWS service)."""
    return Wiring(get_settings(), get_database())
