"""dossier: the toolkit that builds and guards the Qwen3-Next optimization manual."""
