#!/usr/bin/python3
"""A slixmpp client driven by rayo-xmpp's tests (crates/rayo-xmpp/tests/slixmpp_client.rs).

usage: slix_client.py HOST PORT JID PASSWORD CAFILE MODE
  MODE 'session': log in (STARTTLS, SCRAM), IQ round trip, disco#info, presence; prints one
                  line per check, 'OK <check> ...', and exits 0 when all passed.
  MODE 'wrong-password': expects the login to be refused; prints 'AUTH_FAILED'.
Exits non-zero with a message on stderr on any failure or after 20 s.
"""
import asyncio
import logging
import sys
import xml.etree.ElementTree as ET

import slixmpp

HOST, PORT, JID, PASSWORD, CAFILE, MODE = sys.argv[1:7]
DOMAIN = JID.split("@", 1)[1].split("/", 1)[0]


class Client(slixmpp.ClientXMPP):
    def __init__(self):
        super().__init__(JID, PASSWORD)
        self.ca_certs = CAFILE
        self.register_plugin("xep_0030")
        self.result = None
        self.presences = asyncio.Queue()
        self.add_event_handler("session_start", self.start)
        self.add_event_handler("failed_auth", self.failed_auth)
        self.add_event_handler("presence", lambda p: self.presences.put_nowait(p))
        self.add_event_handler("auth_success", lambda _: print("OK auth", flush=True))

    def finish(self, code):
        self.result = code
        self.disconnect()

    def failed_auth(self, _):
        if MODE == "wrong-password":
            print("AUTH_FAILED", flush=True)
            self.finish(0)
        else:
            print("login refused", file=sys.stderr, flush=True)
            self.finish(2)

    async def start(self, _):
        if MODE == "wrong-password":
            print("logged in with a wrong password", file=sys.stderr, flush=True)
            return self.finish(3)
        try:
            print(f"OK session {self.boundjid.full}", flush=True)
            iq = self.Iq()
            iq["type"] = "get"
            iq["to"] = DOMAIN
            iq.append(ET.fromstring("<echo xmlns='urn:test'>42</echo>"))
            resp = await iq.send(timeout=5)
            echo = resp.xml.find("{urn:test}echo")
            assert echo is not None and echo.text == "42", f"bad echo: {resp}"
            print("OK iq", flush=True)

            info = await self["xep_0030"].get_info(jid=DOMAIN, timeout=5)
            features = info["disco_info"]["features"]
            assert "urn:xmpp:rayo:1" in features, f"features: {features}"
            print("OK disco", flush=True)

            self.send_presence(pto=DOMAIN)
            while True:
                p = await asyncio.wait_for(self.presences.get(), 5)
                if p["from"].bare == f"c1@call.{DOMAIN}":
                    break
            assert p.xml.find("{urn:xmpp:delay}delay") is not None, f"no delay: {p}"
            print("OK presence", flush=True)
            self.finish(0)
        except Exception as e:  # noqa: BLE001 - report anything to the test
            print(f"failed: {e!r}", file=sys.stderr, flush=True)
            self.finish(1)


async def main():
    c = Client()
    c.connect(address=(HOST, int(PORT)), force_starttls=True, disable_starttls=False)
    for _ in range(200):
        await asyncio.sleep(0.1)
        if c.result is not None:
            await asyncio.sleep(0.2)
            return c.result
    print("timed out", file=sys.stderr, flush=True)
    return 4


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    sys.exit(asyncio.run(main()))
