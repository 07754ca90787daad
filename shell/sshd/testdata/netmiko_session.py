#!/usr/bin/python3
"""Drive a Tunnelbox router with netmiko's cisco_ios driver, as an automation user would.

Usage: netmiko_session.py HOST PORT USERNAME PASSWORD

Prints one JSON object: the outputs of `show version`, the config set and
`show running-config`, and the prompts netmiko found. Exits non-zero (with a
traceback on stderr) if netmiko fails at any step.
"""
import json
import sys

from netmiko import ConnectHandler


def main():
    host, port, user, password = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    conn = ConnectHandler(
        device_type="cisco_ios",
        host=host,
        port=port,
        username=user,
        password=password,
        allow_agent=False,
        use_keys=False,
        ssh_config_file=None,
        timeout=30,
    )
    result = {"prompt": conn.find_prompt()}
    result["show_version"] = conn.send_command("show version")
    result["config_output"] = conn.send_config_set([
        "hostname R2",
        "interface Loopback0",
        "description set by netmiko",
        "ip address 10.9.9.9 255.255.255.255",
    ])
    # The hostname changed, so the prompt did: netmiko's documented way to follow it.
    conn.set_base_prompt()
    result["new_prompt"] = conn.find_prompt()
    result["running_config"] = conn.send_command("show running-config")
    conn.disconnect()
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
