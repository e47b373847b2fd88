# akbot — Matrix-Bot des Facharbeitskreises KI (LVR/LWL)
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    AKBOT_CONFIG=/data/config.toml AKBOT_BOT__DATA_DIR=/data

WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY commands ./commands
RUN pip install . && useradd --system --uid 10001 --home-dir /data akbot \
    && mkdir -p /data && chown akbot /data

USER akbot
VOLUME ["/data"]
HEALTHCHECK --interval=60s --timeout=20s --start-period=30s --retries=3 CMD ["akbot", "check"]
ENTRYPOINT ["akbot"]
CMD ["run"]
