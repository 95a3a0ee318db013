"""The events worker: outbox dispatcher, signed webhook sender and the websocket hub (spec §4)."""
