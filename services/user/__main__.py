from services.runtime.server import main
from services.user.app import build
from services.user.settings import Settings

main(Settings.from_env, build)
