#!/usr/bin/python3
"""Run show commands through netmiko's cisco_ios driver and print their outputs.

Usage: netmiko_show.py HOST PORT USERNAME PASSWORD COMMAND...

Prints one JSON object mapping each command to what send_command returned. Exits non-zero
(with a traceback on stderr) if netmiko fails.
"""
import json
import sys

from netmiko import ConnectHandler


def main():
    host, port, user, password = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    conn = ConnectHandler(device_type="cisco_ios", host=host, port=port, username=user,
                          password=password, allow_agent=False, use_keys=False,
                          ssh_config_file=None, timeout=30)
    out = {}
    for cmd in sys.argv[5:]:
        out[cmd] = conn.send_command(cmd)
    conn.disconnect()
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
