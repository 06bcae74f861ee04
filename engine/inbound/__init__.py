"""What starts and wakes runs from outside: events and their mailbox deliveries (events),
event triggers and subscriptions (triggers), webhook endpoints and deliveries (webhooks),
schedules and their sweeper (schedules)."""
