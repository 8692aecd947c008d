FROM python:3.13-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .
# collectstatic needs settings; these values exist only for this build step.
RUN DJANGO_SECRET_KEY=build-only DJANGO_ALLOWED_HOSTS=localhost EMAIL_URL=consolemail:// REDIS_CACHE_URL=redis://build-only:6379/1 \
    python manage.py collectstatic --noinput

RUN useradd --create-home --uid 1000 app && mkdir -p /data/media && chown -R app /data
USER app
EXPOSE 8000
CMD ["gunicorn", "helpcenter.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
