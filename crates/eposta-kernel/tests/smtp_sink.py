"""A real SMTP server for ePošta's tests (aiosmtpd): saves each message it receives as JSON.

    python3 smtp_sink.py DIR [PORT]

Listens on 127.0.0.1:PORT (0 or none: a free port), prints `listening PORT` once ready, and
writes DIR/<n>.json per message: envelope sender and recipients, the To and Subject headers
(decoded), the Message-ID and the decoded text body. Runs until killed.
"""

import asyncio
import email
import json
import os
import sys
from email import policy

from aiosmtpd.smtp import SMTP


class Sink:
    def __init__(self, directory):
        self.directory = directory
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        msg = email.message_from_bytes(envelope.content, policy=policy.default)
        body = msg.get_body(preferencelist=("plain",))
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "from": str(msg["From"]),
            "to": str(msg["To"]),
            "subject": str(msg["Subject"]),
            "message_id": str(msg["Message-ID"]),
            "body": body.get_content() if body is not None else "",
        }
        self.count += 1
        path = os.path.join(self.directory, f"{self.count:04}.json")
        # Write then rename, so a reader never sees half a file.
        with open(path + ".tmp", "w", encoding="utf-8") as f:
            json.dump(record, f, ensure_ascii=False)
        os.replace(path + ".tmp", path)
        return "250 Message accepted for delivery"


async def main():
    directory = sys.argv[1]
    port = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    loop = asyncio.get_running_loop()
    handler = Sink(directory)
    server = await loop.create_server(lambda: SMTP(handler), "127.0.0.1", port)
    print(f"listening {server.sockets[0].getsockname()[1]}", flush=True)
    await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
