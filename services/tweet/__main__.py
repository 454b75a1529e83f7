from services.runtime.server import main
from services.tweet.app import build
from services.tweet.settings import Settings

main(Settings.from_env, build)
