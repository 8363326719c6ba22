"""Pictures and exercises for the clinic-exercise tests (docs/clinic-exercises.md)."""

from __future__ import annotations

import io
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from accounts.models import User
from rehab.clinic_exercises import clinic_exercise_create
from rehab.models import Exercise


def picture_bytes(
    kind: str = "PNG", size: tuple[int, int] = (320, 240), exif: bytes | None = None
) -> bytes:
    out = io.BytesIO()
    image = Image.new("RGB", size, (30, 120, 200))
    if exif is not None:
        image.save(out, kind, exif=exif)
    else:
        image.save(out, kind)
    return out.getvalue()


def upload(data: bytes, name: str = "picture.png", content_type: str = "image/png") -> Any:
    return SimpleUploadedFile(name, data, content_type=content_type)


def values(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "name": "Towel calf stretch",
        "category": "stretch",
        "instructions": "Sitting, loop a towel round the foot and pull gently.",
        "steps": ["Sit with the leg straight.", "Loop a towel round the ball of the foot."],
        "dosage": "3 × 30 s hold",
        "feel": "A stretch in the calf.",
        "stop_if": "Pain at the back of the ankle.",
        "default_sets": 3,
        "default_reps": "30 s hold",
    }
    base.update(changes)
    return base


def make_exercise(actor: User, *, picture: bool = False, **changes: Any) -> Exercise:
    image = upload(picture_bytes()) if picture else None
    return clinic_exercise_create(actor=actor, values=values(**changes), image=image)
