"""Pictures a clinic uploads for its own exercises (docs/clinic-exercises.md).

An upload is trusted for nothing: not its name, not its extension, not the type the browser
claims. Pillow reads the bytes and decides what they are; only PNG, JPEG and WebP are kept (SVG,
which can carry script, never is: Pillow does not read it). The picture is then decoded and
written out again from its pixels, so that whatever else the file held (metadata such as a
phone's GPS position in EXIF, comments, trailing bytes such as a PHP script glued after a valid
image) is gone. The stored name is ours (a random one with the extension of the format written),
and the file is served only through a view that checks reach (rehab/clinic_exercise_views.py),
never from a public media address.
"""

from __future__ import annotations

import io
import uuid
import warnings
from dataclasses import dataclass
from typing import IO, Final

from django.core.files.base import ContentFile
from django.utils.translation import gettext_lazy as _
from PIL import Image, ImageOps, UnidentifiedImageError

from rehab.free_text import Errors

MAX_BYTES: Final = 2 * 1024 * 1024
MIN_SIDE: Final = 64
MAX_SIDE: Final = 4000
# Stored pictures are scaled down to fit this box: a phone screen needs no more.
STORED_SIDE: Final = 1600

# Pillow format name -> (extension, Content-Type). Nothing else is accepted.
FORMATS: Final[dict[str, tuple[str, str]]] = {
    "PNG": ("png", "image/png"),
    "JPEG": ("jpg", "image/jpeg"),
    "WEBP": ("webp", "image/webp"),
}
CONTENT_TYPES: Final = {extension: content_type for extension, content_type in FORMATS.values()}


@dataclass(frozen=True)
class CleanImage:
    """A picture re-encoded from its pixels, ready for the storage: its new name and bytes."""

    name: str
    content: ContentFile[bytes]
    content_type: str
    width: int
    height: int


def _read_limited(upload: IO[bytes], errors: Errors, field: str) -> bytes | None:
    """The upload's bytes, reading at most one byte past the limit."""
    size = getattr(upload, "size", None)
    if isinstance(size, int) and size > MAX_BYTES:
        errors.add(field, _too_large())
        return None
    if hasattr(upload, "seek"):
        upload.seek(0)
    data = upload.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        errors.add(field, _too_large())
        return None
    if not data:
        errors.add(field, str(_("The file is empty.")))
        return None
    return data


def _too_large() -> str:
    return str(_("The picture is larger than 2 MB. Save it smaller and upload it again."))


def _not_a_picture() -> str:
    return str(_("This file is not a PNG, JPEG or WebP picture (SVG and other files are refused)."))


def clean_exercise_image(
    upload: IO[bytes], errors: Errors, *, field: str = "image"
) -> CleanImage | None:
    """Check an upload and re-encode it; problems go to ``errors`` under ``field``."""
    data = _read_limited(upload, errors, field)
    if data is None:
        return None
    try:
        with warnings.catch_warnings():
            # A picture with more pixels than Pillow's guard is an error here, not a warning.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                kind = probe.format
                width, height = probe.size
                if kind not in FORMATS:
                    errors.add(field, _not_a_picture())
                    return None
                if max(width, height) > MAX_SIDE or min(width, height) < MIN_SIDE:
                    errors.add(
                        field,
                        str(
                            _(
                                "The picture is %(width)s × %(height)s pixels: each side must be "
                                "between %(min)s and %(max)s pixels."
                            )
                        )
                        % {"width": width, "height": height, "min": MIN_SIDE, "max": MAX_SIDE},
                    )
                    return None
                probe.verify()
            with Image.open(io.BytesIO(data)) as image:
                image.load()
                picture = ImageOps.exif_transpose(image)
    except (
        UnidentifiedImageError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
        OSError,
        SyntaxError,
        ValueError,
    ):
        errors.add(field, _not_a_picture())
        return None
    return _reencode(picture, kind)


def _reencode(picture: Image.Image, kind: str) -> CleanImage:
    picture.thumbnail((STORED_SIDE, STORED_SIDE))
    out = io.BytesIO()
    if kind == "JPEG":
        picture.convert("RGB").save(out, "JPEG", quality=85, optimize=True)
    elif kind == "PNG":
        mode = picture.mode if picture.mode in ("RGB", "RGBA", "L", "LA", "P") else "RGBA"
        picture.convert(mode).save(out, "PNG", optimize=True)
    else:
        mode = "RGBA" if "A" in picture.getbands() else "RGB"
        picture.convert(mode).save(out, "WEBP", quality=85)
    extension, content_type = FORMATS[kind]
    return CleanImage(
        name=f"{uuid.uuid4().hex}.{extension}",
        content=ContentFile(out.getvalue()),
        content_type=content_type,
        width=picture.width,
        height=picture.height,
    )


def content_type_for(name: str) -> str | None:
    """The Content-Type of a stored picture, from the extension we gave it; None if unknown."""
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    return CONTENT_TYPES.get(extension)
