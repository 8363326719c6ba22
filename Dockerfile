# The production image: gunicorn for the web, and the same image runs the Celery worker and beat
# (see docker-compose.yml). Configuration comes from the environment (docs/configuration.md).
FROM python:3.11-slim

# settings.py finds templates/ and static/ next to the code it runs from, so PYTHONPATH makes the
# code run from /app (not from the copy pip puts in site-packages), whatever the working directory.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=config.settings \
    PAIS_VAR_DIR=/app/var \
    DJANGO_STATIC_ROOT=/app/staticfiles \
    PYTHONPATH=/app

WORKDIR /app

RUN groupadd --system --gid 10001 pais \
    && useradd --system --uid 10001 --gid pais --home-dir /app --no-create-home \
       --shell /usr/sbin/nologin pais

# Dependencies first, read from pyproject.toml, so that a code change does not reinstall them;
# at the versions pinned in constraints.txt, the ones the tests ran and pip-audit checked.
COPY pyproject.toml README.md constraints.txt ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > /tmp/requirements.txt \
    && pip install -c constraints.txt -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

COPY . .
RUN pip install --no-deps . \
    && mkdir -p /app/var /app/staticfiles /app/static \
    && chown -R pais:pais /app/var /app/staticfiles

USER pais

EXPOSE 8000
# The logger class takes invitation and password-reset tokens out of the access and error logs.
CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--access-logfile", "-", "--logger-class", "config.gunicorn_logging.RedactingLogger"]
