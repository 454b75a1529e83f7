from services.engagement.app import build
from services.engagement.settings import Settings
from services.runtime.server import main

main(Settings.from_env, build)
