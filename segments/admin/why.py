"""The admin page that says why a customer is, or is not, in a segment."""

from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse

from segments.models import Customer, Segment
from segments.selectors import membership_explain


def why_view(admin_site, request, segment_id, customer_id):
    segment = get_object_or_404(Segment, pk=segment_id)
    customer = get_object_or_404(Customer, pk=customer_id)
    explanation = membership_explain(segment=segment, customer=customer)
    verb = "is" if explanation.member else "is not"
    context = {
        **admin_site.each_context(request),
        "title": f"Why {customer} {verb} in {segment}",
        "segment": segment,
        "customer": customer,
        "explanation": explanation,
        "opts": Segment._meta,
    }
    return TemplateResponse(request, "admin/segments/segment/why.html", context)
