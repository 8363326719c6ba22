"""``{% episode_charts episode progress as charts %}`` for the therapist's episode page.

The episode page is a view of ``rehab``, which may not import ``reports`` (imports run
reports -> rehab -> accounts); its template loads this tag instead, which draws the charts from
the rows the page already loaded.
"""

from __future__ import annotations

from django import template

from rehab.models import Episode
from rehab.selectors import EpisodeProgress
from reports.charts import Chart, charts_for_episode_page

register = template.Library()


@register.simple_tag
def episode_charts(episode: Episode, progress: EpisodeProgress) -> list[Chart]:
    """The pain, plantar flexion and adherence charts, as of the progress section's date."""
    return charts_for_episode_page(
        episode=episode, evaluation=progress.evaluation, as_of=progress.as_of
    )
