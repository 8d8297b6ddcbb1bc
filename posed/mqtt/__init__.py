"""MQTT output: topics, payloads, Home Assistant discovery."""
