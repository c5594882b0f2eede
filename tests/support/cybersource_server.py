"""A local stand-in for CyberSource Secure Acceptance's hosted payment page.

It listens on 127.0.0.1, receives the signed form the learner's browser posts, checks the
signature with the shared secret key (the way CyberSource does), and answers with a page that
posts a signed response back to the site's receipt address at once (an auto-submitting form), as
the real processor does once the learner has paid, declined or canceled. The browser tests
point the site at it; the other checkout tests post ``processor_response`` to the receipt
address themselves.

The signing here is written from CyberSource's Secure Acceptance documentation (HMAC-SHA256 over
"name=value" pairs of the signed fields, joined by commas, base64), independently of the gateway
library the application uses, so the tests check the application against the processor's rules.
"""

import base64
import hashlib
import hmac
import html
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

SECURITY_KEY = "test-cybersource-security-key-0123456789"
ACCESS_KEY = "test-access-key"
PROFILE_ID = "test-profile-id"


def sign(fields: dict[str, str], key: str = SECURITY_KEY) -> str:
    names = fields["signed_field_names"].split(",")
    message = ",".join(f"{name}={fields[name]}" for name in names)
    digest = hmac.new(key.encode(), message.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def signature_is_valid(fields: dict[str, str], key: str = SECURITY_KEY) -> bool:
    return hmac.compare_digest(fields.get("signature", ""), sign(fields, key))


def processor_response(
    request_fields: dict[str, str],
    *,
    decision: str = "ACCEPT",
    message: str = "Request was processed successfully.",
    key: str = SECURITY_KEY,
    **overrides: str,
) -> dict[str, str]:
    """What CyberSource posts back for a request: its fields echoed as req_*, signed."""
    response = {f"req_{name}": value for name, value in request_fields.items()}
    response.pop("req_signature", None)
    response.pop("req_signed_field_names", None)
    response.pop("req_unsigned_field_names", None)
    response.update(
        {
            "decision": decision,
            "message": message,
            "reason_code": "100" if decision == "ACCEPT" else "481",
            "transaction_id": uuid.uuid4().hex[:22] if decision != "CANCEL" else "",
            "auth_amount": request_fields.get("amount", ""),
            "signed_date_time": "2026-01-01T00:00:00Z",
        }
    )
    response.update(overrides)
    response["signed_field_names"] = ",".join([*response, "signed_field_names"])
    response["signature"] = sign(response, key)
    return response


class CyberSourceStandIn:
    def __init__(self, *, key: str = SECURITY_KEY, decision: str = "ACCEPT"):
        self.key = key
        self.decision = decision
        self.received: list[dict[str, str]] = []
        self.rejected: list[dict[str, str]] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/pay"

    def start(self) -> "CyberSourceStandIn":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def _answer(self, fields: dict[str, str]) -> tuple[int, str]:
        if not signature_is_valid(fields, self.key):
            self.rejected.append(fields)
            return 403, "<h1>Invalid signature</h1>"
        self.received.append(fields)
        message = {
            "ACCEPT": "Request was processed successfully.",
            "DECLINE": "Insufficient funds",
            "CANCEL": "",
        }.get(self.decision, "General system failure")
        response = processor_response(fields, decision=self.decision, message=message, key=self.key)
        target = fields[
            "override_custom_cancel_page"
            if self.decision == "CANCEL"
            else "override_custom_receipt_page"
        ]
        inputs = "".join(
            f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
            for k, v in response.items()
        )
        page = (
            "<!doctype html><title>Payment</title><p>Processing your payment…</p>"
            f'<form id="answer" method="post" action="{html.escape(target)}">{inputs}</form>'
            '<script>document.getElementById("answer").submit();</script>'
        )
        return 200, page

    def _handler(self):
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode()
                status, page = standin._answer(dict(parse_qsl(body, keep_blank_values=True)))
                data = page.encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format, *args):  # keep test output quiet
                pass

        return Handler
