"""Deployment helpers run by deploy.sh on the deployer's machine (Cloud Scheduler jobs)."""
