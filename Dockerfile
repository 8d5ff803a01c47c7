FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 KB_DATA_DIR=/data
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
VOLUME ["/data"]
EXPOSE 8000
# docker-compose.yml runs setup (migrate + kb_bootstrap), web (gunicorn) and worker (kb_worker) from this image.
CMD ["gunicorn", "kbsite.wsgi", "--bind", "0.0.0.0:8000", "--workers", "2", "--threads", "4"]
