"""``/healthz``: the web process answers (a liveness probe for load balancers and orchestrators).

It touches neither the database nor the cache, so it stays up while they are down and costs the
least a request can cost: ``make bench-checkout`` uses it as the server's ceiling.
"""

from django.http import HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET


@never_cache
@require_GET
def healthz(request):
    return HttpResponse("ok\n", content_type="text/plain")
