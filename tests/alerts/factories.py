"""An Alert factory for set-up only: behaviour under test raises alerts through the evaluation."""

from __future__ import annotations

import factory
from django.utils import timezone

from rehab import rules
from rehab.models import Alert
from tests.factories import EpisodeFactory


class AlertFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Alert

    episode = factory.SubFactory(EpisodeFactory)
    code = rules.REFERRAL_CONSIDER
    severity = rules.HIGH
    status = "open"
    message = "Activity pain has not improved enough by the review day."
    evidence = factory.LazyFunction(lambda: {"trial_day": 42, "pain_baseline": 7.0})
    ruleset = rules.RULESET_VERSION
    thresholds = factory.LazyFunction(lambda: rules.Thresholds().as_dict())
    first_found_on = factory.LazyFunction(lambda: timezone.now().date())
    last_found_on = factory.SelfAttribute("first_found_on")
