#!/usr/bin/env bash
# Deploys Outreach to Google Cloud (seven Cloud Functions, Cloud Scheduler) and Supabase
# (migrations, Vault entries for the database webhooks). Idempotent: run it again after any change.
#
#   ./deploy.sh --dry-run    print every command instead of running it (secrets shown as <redacted>)
#   ./deploy.sh              deploy
#
# Required: GCP_PROJECT, GCP_REGION, SUPABASE_PROJECT_REF, DATABASE_URL (the pooler URL, port 6543),
# SUPABASE_DB_URL (the direct URL, for migrations and Vault), WEBHOOK_SECRET, UNSUBSCRIBE_SECRET,
# SENDER_POSTAL_ADDRESS, MAIL_FROM, and SUPABASE_JWT_SECRET or SUPABASE_URL.
# Optional: every other variable of README's configuration tables (SECRET_VARS through Secret
# Manager, PLAIN_VARS as environment variables; a test holds both lists to the README), and
# SCHEDULER_SERVICE_ACCOUNT. Each deploy sets the functions' whole environment: a variable set by
# hand in the console is replaced, so set it here.
set -euo pipefail
cd "$(dirname "$0")"

DRY_RUN=0
[[ "${1:-}" == "--dry-run" ]] && DRY_RUN=1
FUNCTIONS=(create_campaign run_search scrape_url draft_message send_due sync_mailboxes unsubscribe_webhook deliver_events console)
SECRET_VARS=(DATABASE_URL WEBHOOK_SECRET UNSUBSCRIBE_SECRET UNSUBSCRIBE_PREVIOUS_SECRETS SUPABASE_JWT_SECRET
  SEARCH_API_KEY LLM_API_KEY SMTP_URL AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY)
PLAIN_VARS=(SUPABASE_URL SUPABASE_ANON_KEY SEARCH_PROVIDER SEARCH_RESULTS_PER_TASK SEARCH_SKIP_HOSTS SEARCH_BASE_URL
  SEARCH_RETRY_BASE_SECONDS LLM_BASE_URL LLM_MODEL LLM_TIMEOUT LLM_RETRY_BASE_SECONDS
  MAIL_TRANSPORT MAIL_FROM SENDER_POSTAL_ADDRESS UNSUBSCRIBE_MAILTO SNS_TOPIC_ARNS AWS_REGION
  SEND_RATE_PER_SECOND SEND_DOMAIN_SPACING_SECONDS SEND_MAX_ATTEMPTS SMTP_POOL_SIZE SEND_BATCH_SIZE
  SEND_LEASE_SECONDS SEND_RETRY_BASE_SECONDS SMTP_MESSAGES_PER_CONNECTION MAILBOX_RETRY_SECONDS
  IMAP_TIMEOUT IMAP_FETCH_BYTES IMAP_BATCH_SIZE
  EVENTS_CONCURRENCY EVENTS_PER_ENDPOINT EVENTS_TIMEOUT EVENTS_RESPONSE_BYTES EVENTS_RETRY_BASE_SECONDS EVENTS_RETRY_HOURS EVENTS_BUDGET_SECONDS
  WORK_MAX_ATTEMPTS WORK_LEASE_SECONDS WORK_RETRY_BASE_SECONDS DRAIN_GRACE_SECONDS DRAIN_CONCURRENCY
  DRAIN_BUDGET_SECONDS DB_POOL_SIZE MAX_BODY_BYTES CORS_ALLOWED_ORIGINS JWKS_REFRESH_COOLDOWN
  CRAWLER_USER_AGENT FETCH_CONNECT_TIMEOUT FETCH_READ_TIMEOUT FETCH_DEADLINE CRAWL_EXTRA_PAGES
  EMAIL_CHECK_DELIVERABILITY DNS_NAMESERVERS SENDER_DOMAIN_CHECK)

run() {  # print in a dry run, otherwise execute; arguments holding secrets are passed already redacted for printing
  if (( DRY_RUN )); then printf '%s\n' "$*"; else "$@"; fi
}

missing=()
# The scheduler jobs are made with google-cloud-scheduler, from the project's own environment made
# the way `make` makes it (requirements-bootstrap.lock, then requirements-dev.lock), or from PYTHON.
if [[ -z "${PYTHON:-}" ]]; then
  make --no-print-directory --silent .venv/.installed >&2 || missing+=("the project's .venv (make .venv/.installed failed)")
  PYTHON=.venv/bin/python
fi
for tool in gcloud supabase psql "$PYTHON"; do
  command -v "$tool" >/dev/null || missing+=("the $tool command")
done
for var in GCP_PROJECT GCP_REGION SUPABASE_PROJECT_REF DATABASE_URL SUPABASE_DB_URL WEBHOOK_SECRET UNSUBSCRIBE_SECRET SENDER_POSTAL_ADDRESS MAIL_FROM; do
  [[ -n "${!var:-}" ]] || missing+=("$var")
done
[[ -n "${SUPABASE_JWT_SECRET:-}" || -n "${SUPABASE_URL:-}" ]] || missing+=("SUPABASE_JWT_SECRET or SUPABASE_URL")
for var in WEBHOOK_SECRET UNSUBSCRIBE_SECRET; do  # the functions refuse to start with a shorter one
  value="${!var:-}"
  [[ -z "$value" || ${#value} -ge 32 ]] || missing+=("$var of at least 32 characters")
done
if (( ${#missing[@]} )); then
  echo "missing: ${missing[*]}" >&2
  (( DRY_RUN )) || exit 2
  echo "(dry run: continuing with placeholders)" >&2
fi

PROJECT="${GCP_PROJECT:-my-project}"
REGION="${GCP_REGION:-europe-west1}"
BASE_URL="https://${REGION}-${PROJECT}.cloudfunctions.net"
SCHEDULER_SA="${SCHEDULER_SERVICE_ACCOUNT:-outreach-scheduler@${PROJECT}.iam.gserviceaccount.com}"
secret_name() { echo "outreach-$(echo "$1" | tr '[:upper:]_' '[:lower:]-')"; }

echo "== 1. database: migrations"
run supabase link --project-ref "${SUPABASE_PROJECT_REF:-project-ref}"
if (( DRY_RUN )); then echo "supabase db push --db-url <SUPABASE_DB_URL>"; else supabase db push --db-url "$SUPABASE_DB_URL"; fi

echo "== 2. database: Vault entries the webhook trigger reads"
for pair in "outreach_functions_url:$BASE_URL" "outreach_webhook_secret:${WEBHOOK_SECRET:-}"; do
  name="${pair%%:*}"; value="${pair#*:}"
  sql="select case when exists (select 1 from vault.secrets where name = '$name')
       then vault.update_secret((select id from vault.secrets where name = '$name'), :'value')
       else vault.create_secret(:'value', '$name') end"
  shown="$value"; [[ "$name" == *secret* ]] && shown="<redacted>"
  if (( DRY_RUN )); then
    echo "psql <SUPABASE_DB_URL> -v value=$shown -c \"upsert vault secret $name\""
  else
    psql "$SUPABASE_DB_URL" -v ON_ERROR_STOP=1 -v value="$value" -q -c "$sql" >/dev/null
  fi
done

echo "== 3. Secret Manager"
set_secrets=()
for var in "${SECRET_VARS[@]}"; do
  [[ -n "${!var:-}" ]] || { (( DRY_RUN )) && [[ "$var" =~ ^(DATABASE_URL|WEBHOOK_SECRET|UNSUBSCRIBE_SECRET)$ ]] || continue; }
  name=$(secret_name "$var")
  set_secrets+=("$var=$name:latest")
  if (( DRY_RUN )); then
    echo "gcloud secrets create $name --project $PROJECT --replication-policy automatic (if missing)"
    echo "gcloud secrets versions add $name --project $PROJECT --data-file=- <<< <redacted>"
  else
    gcloud secrets describe "$name" --project "$PROJECT" >/dev/null 2>&1 \
      || gcloud secrets create "$name" --project "$PROJECT" --replication-policy automatic
    printf '%s' "${!var}" | gcloud secrets versions add "$name" --project "$PROJECT" --data-file=- >/dev/null
  fi
done
env_vars="PUBLIC_BASE_URL=${PUBLIC_BASE_URL:-$BASE_URL}"
for var in "${PLAIN_VARS[@]}"; do
  [[ -n "${!var:-}" ]] && env_vars+="|$var=${!var}"
done

echo "== 4. functions"
rm -rf build
for fn in "${FUNCTIONS[@]}"; do
  dir="build/$fn"
  mkdir -p "$dir"
  cp "functions/$fn/main.py" "$dir/main.py"
  cp -r shared "$dir/shared"  # the product's package only; local/ and deploy/ stay behind
  find "$dir/shared" -name __pycache__ -prune -exec rm -rf {} +
  cp requirements.lock "$dir/requirements.txt"  # exact versions and hashes, as tested
  access=(--allow-unauthenticated)
  # Called only by Cloud Scheduler with its OIDC token (the drains also take webhooks from Supabase).
  [[ "$fn" =~ ^(send_due|sync_mailboxes)$ ]] && access=(--no-allow-unauthenticated)
  memory=256Mi; timeout=60s
  [[ "$fn" =~ ^(scrape_url|draft_message|run_search|send_due|sync_mailboxes|deliver_events)$ ]] && timeout=540s
  [[ "$fn" == "scrape_url" ]] && memory=512Mi
  secrets_flag=$(IFS=,; echo "${set_secrets[*]}")
  run gcloud functions deploy "$fn" --gen2 --runtime python312 --project "$PROJECT" --region "$REGION" \
    --source "$dir" --entry-point "$fn" --trigger-http "${access[@]}" --memory "$memory" --timeout "$timeout" \
    --set-env-vars "^|^$env_vars" --set-secrets "$secrets_flag"
done

echo "== 5. Cloud Scheduler"
if (( DRY_RUN )); then
  WEBHOOK_SECRET="${WEBHOOK_SECRET:-dry-run}" "$PYTHON" -m deploy.scheduler --project "$PROJECT" --region "$REGION" \
    --base-url "$BASE_URL" --service-account "$SCHEDULER_SA" --dry-run
else
  for fn in send_due sync_mailboxes; do
    run gcloud functions add-invoker-policy-binding "$fn" --project "$PROJECT" --region "$REGION" \
      --member "serviceAccount:$SCHEDULER_SA"
  done
  "$PYTHON" -m deploy.scheduler --project "$PROJECT" --region "$REGION" --base-url "$BASE_URL" \
    --service-account "$SCHEDULER_SA"
fi
echo "done: functions at $BASE_URL"
