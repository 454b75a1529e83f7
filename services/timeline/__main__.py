from services.runtime.server import main
from services.timeline.app import build
from services.timeline.settings import Settings

main(Settings.from_env, build)
