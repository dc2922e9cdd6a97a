"""Bridges between Podium's bus and the brokers users run: NATS JetStream and RabbitMQ."""
