// The panel's words in English and Russian. Twitch tells the panel the
// viewer's language (onContext's `language`, and the `language`/`locale`
// query parameters of the panel's frame); everything else is English.
// The spec's normative Russian lines (the whispers, the reward line) are the
// same in both languages: they are what the viewer sees in game and in chat.

export type Lang = 'en' | 'ru';

/** The normative whisper to the winner (spec README, byte-exact). */
export const WINNER_WHISPER =
  'Поздравляю, ты победил в розыгрыше! Дай мне своё согласие на получение награды - ответь на это сообщение одной фразой: !twgold';
/** The normative whisper for a gift (spec README, byte-exact). */
export const GIFT_WHISPER = 'Тебе выбран подарок! Для подтверждения ответь одной фразой: !twgift';

/** The normative reward line (spec README, byte-exact), in both languages. */
export function rewardLine(characterName: string): string {
  return `Награда отправлена персонажу ${characterName} на почту, проверяй ящик!`;
}

/** Picks the panel's language: Twitch's context first, then the frame's query (language=, locale=). */
export function pickLang(contextLanguage: string | null | undefined, search = ''): Lang {
  const q = new URLSearchParams(search);
  for (const v of [contextLanguage, q.get('language'), q.get('locale')]) {
    if (v == null || v.trim() === '') continue;
    return /^ru\b/i.test(v.trim()) ? 'ru' : 'en';
  }
  return 'en';
}

/** Russian plural form: 1 минута, 2 минуты, 5 минут, 21 минута. */
export function ruPlural(n: number, one: string, few: string, many: string): string {
  const m10 = n % 10;
  const m100 = n % 100;
  if (m10 === 1 && m100 !== 11) return one;
  if (m10 >= 2 && m10 <= 4 && (m100 < 12 || m100 > 14)) return few;
  return many;
}

/** 1,000 / 1 000: gold amounts as each language writes them. */
export function gold(n: number, lang: Lang): string {
  return n.toLocaleString(lang === 'ru' ? 'ru-RU' : 'en-US');
}

const en = {
  title: "Mimiron's Gold-o-Matic",
  retry: 'Retry',
  showingLast: 'Showing the last data received.',
  retryingIn: (s: number) => `Retrying in ${s} s.`,
  retrying: 'Retrying…',

  // sections
  ariaPayout: 'Your payout',
  ariaRoulette: 'Roulette',
  ariaIdentity: 'Identity',
  howToJoin: 'How to join',
  gift: 'Gift',
  rules: 'Rules',

  // identity
  shareIdentity: 'Share your identity to see your status',
  identityLoggedOut: 'Log in to Twitch and share your identity with this extension to see whether you’re in the pool and what you won.',
  identityShare: 'Share your Twitch identity with this extension to see whether you’re in the pool and what you won.',

  // join
  joinCmdBefore: 'Subscribers type ',
  joinCmdAfter: ' in stream chat.',
  nameRules: 'Names are 2–12 Latin or Cyrillic letters, and each name can be in the pool only once.',
  characterPlaceholder: 'CharacterName',
  characterLabel: 'Character name',
  join: 'Join',
  pool: (n: number) => `Pool: ${n} ${n === 1 ? 'viewer' : 'viewers'}`,
  poolUnknown: 'Pool: …',
  youreIn: 'You’re in as ',
  notIn: 'You’re not in the pool yet.',
  joinedOk: (name: string) => `You’re in as ${name}!`,
  leave: 'Leave the pool',
  leaveConfirm: 'Click again to leave',
  leftOk: 'You left the pool.',
  lifetime: (won: string, cap: string) => `Won so far: ${won} g of ${cap} g`,
  lifetimeFull: 'You have reached the lifetime cap — thanks for playing!',
  everyMinutes: (m: number) => (m === 1 ? 'every minute' : `every ${m} minutes`),
  everySeconds: (s: number) => `every ${s} seconds`,
  rule1: (every: string) => `The wheel spins ${every} and draws one viewer from the pool at random.`,
  rule2: 'The drawn viewer wins only if their character is online in WoW; otherwise nobody wins that round.',
  rule3: 'Not drawn? You stay in the pool for the next spins.',
  rule4: 'Winners leave the pool once the gold is delivered, and may join again.',
  rule5: '1,000 g per win, at most 10,000 g per viewer in total.',

  // gift
  giftIntroBefore: 'Subscribers can ask once for a random item from the streamer’s bags: type ',
  giftIntroAfter: ' in chat.',
  giftLabel: 'Character name for the gift',
  ask: 'Ask',
  giftQueued: (name: string, pos: number, wait: string) => `${name} is #${pos} in the gift queue — ${wait}.`,
  giftNext: "you're next",
  giftUnderMinute: 'less than a minute',
  giftAboutMin: (m: number) => `about ${m} min`,
  giftPicking: (name: string) => `The streamer is picking a gift for ${name}…`,
  giftConfirm: (item: string | null) => `${item ? `Your gift: ${item}. ` : ''}Reply !twgift to the streamer's whisper in WoW to accept it:`,
  giftDone: (item: string | null) => `Gift accepted${item ? `: ${item}` : ''} — check your mailbox!`,
  giftFailed: (why: string) => `No gift this time: ${why}.`,
  giftWhyDeclined: 'you declined the gift',
  giftWhySelection: 'no item was picked in time',
  giftWhyConfirmation: 'there was no reply to the whisper in time',
  giftWhyNoItems: "the streamer's bags had nothing to give",
  giftWhyOther: 'it could not be completed',

  // payout
  youWon: 'You won!',
  wonFor: (g: string) => `${g} g for `,
  stepWhisper: 'You’ll get an in-game whisper from the streamer’s character, in Russian:',
  stepReplyBefore: 'Reply to it with ',
  stepReplyAfter: ' to accept.',
  accepted: ' Accepted ✓',
  stepMail: (name: string) => `The streamer then mails the gold to ${name}.`,
  statusInProgress: 'The streamer is preparing your mail',
  statusAccepted: 'Accepted — waiting for the streamer to mail the gold',
  statusWaiting: 'Waiting for your reply in WoW',
  rewardSent: 'Reward sent',
  inMailbox: (g: string, name: string) => `${g} g are in ${name}’s mailbox.`,
  lastPayout: 'Last payout',
  lastLine: (name: string, why: string) => `Last payout to ${name}: ${why}.`,
  whyFailed: 'the delivery failed',
  whyCancelled: 'it was cancelled',
  whyExpired: 'it was not delivered within 24 hours',
  joinAgain: 'You can join again with !twgold.',

  // roulette
  outcomeWon: (name: string) => `${name} won!`,
  outcomeOffline: (name: string) => `${name} was offline — no winner this round`,
  outcomeNoWinner: 'No winner this round',
  outcomeNobody: 'Nobody could be drawn this round',
  lastRound: (text: string) => `Last round: ${text}`,
  poolEmpty: 'The pool is empty — be the first to join!',
  spinsOnceJoined: (at: string) => `Once someone joins, the wheel spins at ${at}`,
  collecting: (n: number) => `Collecting entries — ${n} ${n === 1 ? 'viewer' : 'viewers'} in the pool`,
  spinsAt: (at: string) => `The wheel spins at ${at}`,
  spinning: 'The wheel is spinning…',
  landedOn: (name: string) => `The wheel stopped on ${name}`,
  drawing: 'Drawing…',
  checking: (name: string) => `Checking whether ${name} is online…`,
  checkingWinner: 'Checking whether the winner is online…',
  weHaveWinner: 'We have a winner!',
  roundOver: 'Round over',
  roundOverNobody: 'Round over — nobody could be drawn',
  waitingNext: 'Waiting for the next round',
  nextRoundIn: 'Next round in',
  openOnTwitch: 'Open this panel on Twitch to see the roulette.',
  connecting: 'Connecting to Twitch…',
  rouletteFailed: 'The roulette could not be loaded yet.',
  rouletteLoading: 'Loading the roulette…',
  recentWinners: 'Recent winners',

  // verify this draw (mgm-draw-v1 proofs)
  verifyButton: 'Verify this draw',
  verifyChecking: 'Checking the draw…',
  verifyOkWinner: (n: number, place: number, name: string) => `✓ Draw verified: ${n} ${n === 1 ? 'entry' : 'entries'}, winner #${place} ${name}`,
  verifyOkDrawn: (n: number, place: number, name: string) => `✓ Draw verified: ${n} ${n === 1 ? 'entry' : 'entries'}, drawn #${place} ${name}`,
  verifyOkEmpty: '✓ Draw verified: nobody was eligible',
  verifySeenMatched: 'commitment published before the draw matched',
  verifyNotSeen: 'this panel did not see the commitment before the draw',
  verifyYouIn: (place: number) => `You are in the list (#${place}).`,
  verifyYouOut: 'You are not in this list.',
  verifyBad: '✗ This draw does not verify:',
  verifyNotRevealed: 'The seed is revealed after the draw — try again in a moment.',
  verifyNoProof: 'This round has no proof: it was decided without a committed draw.',
  verifyExpired: 'This round’s proof is no longer kept.',
  verifyUnreadable: 'The server’s answer is not a draw proof.',
  verifyNoCrypto: 'This browser cannot check the draw here (no WebCrypto).',
  verifyLoadFailed: (why: string) => `The proof could not be loaded: ${why}`,
  vmVersion: (published: string, supported: string) => `the proof is of version ${published}; this panel checks ${supported} only`,
  vmSeed: 'the revealed seed is not 64 lowercase hex digits',
  vmCommitment: (published: string, recomputed: string) => `SHA-256 of the seed is ${recomputed}, not the published commitment ${published}`,
  vmSavedCommitment: (seen: string, recomputed: string) => `SHA-256 of the seed is ${recomputed}, not the commitment ${seen} published before the draw`,
  vmCycleId: (published: string, asked: string) => `the proof is of round ${published}, not of ${asked}`,
  vmListKey: (place: number) => `entry #${place} has an order key that is not 32 hex digits`,
  vmListName: (place: number) => `entry #${place} has an empty name, or one with a tab or line break`,
  vmListOrder: (a: number, b: number) => `entries #${a} and #${b} are out of order`,
  vmListHash: (published: string, recomputed: string) => `the list hashes to ${recomputed}, not to the published ${published}`,
  vmIndex: (published: string, recomputed: string) => `the seed and the list draw #${recomputed}, not #${published}`,
  vmCandidate: (published: string, recomputed: string) => `the drawn entry is ${recomputed}, not ${published}`,
  vmShown: (shown: string, drawn: string) => `the roulette showed ${shown}, the proof draws ${drawn}`,
  vmMore: (n: number) => `…and ${n} more`,

  // pinned alerts
  drawnTitle: 'You’ve been drawn — be online in WoW now!',
  drawnBody: (name: string) => `The streamer checks whether ${name} is online in a moment.`,
  wonTitle: 'You won!',
  wonBody: 'Reply !twgold to the streamer’s whisper in WoW to accept.',
  missedTitle: (name: string) => `${name} was offline this time`,
  missedBody: 'You stay in the pool for the next rounds.',
  channelTitle: 'This channel isn’t served by this Gold-o-Matic server',
  channelBody: 'One Gold-o-Matic server serves one channel, and this panel’s server belongs to another one.',

  // update banner
  outOfDate: (cur: string, min: string) => `This panel is out of date (v${cur}; v${min} needed). `,
  reload: 'Reload',
  whatsNew: ' What’s new',

  // errors: title and body per code
  err_invalid_character_name: 'Check the character name',
  err_invalid_character_name_body: 'Names are 2–12 letters, Latin or Cyrillic only — no digits, spaces or symbols.',
  err_lifetime_cap_reached: 'Lifetime cap reached',
  err_lifetime_cap_reached_body: 'You have already received the 10,000 g maximum on this channel. Thanks for playing!',
  err_active_payout_exists: 'You already have a win in progress',
  err_active_payout_exists_body: 'Finish collecting your current reward first — its status is shown in this panel.',
  err_not_subscriber: 'Subscribers only',
  err_not_subscriber_body: 'Subscribe to the channel to join the roulette.',
  err_character_name_taken_in_pool: 'Name already taken',
  err_character_name_taken_in_pool_body: 'Another viewer is in the pool with that character name. Use your own character.',
  err_duplicate_enrollment: 'Please try again',
  err_duplicate_enrollment_body: 'That request was already used. Send it once more.',
  err_unauthorized: 'Session expired',
  err_unauthorized_body: 'Reload the stream page to sign in to the panel again.',
  err_identity_not_shared: 'Share your identity',
  err_identity_not_shared_body: 'Share your Twitch identity with this extension to see your own status.',
  err_wrong_channel: 'This channel isn’t served by this Gold-o-Matic server',
  err_wrong_channel_body: 'One Gold-o-Matic server serves one channel.',
  err_rate_limited: 'Slowing down a little',
  err_rate_limited_body: 'Too many requests right now — the panel retries by itself in a moment.',
  err_network: "Can't reach the Gold-o-Matic",
  err_network_body: 'Check your connection — the panel keeps trying.',
  err_timeout: 'The Gold-o-Matic is slow to answer',
  err_timeout_body: 'The panel keeps trying.',
  err_unavailable: 'The Gold-o-Matic is taking a break',
  err_unavailable_body: 'The server could not answer right now; the panel tries again shortly.',
  err_internal: 'Something broke on our side',
  err_internal_body: 'The panel tries again shortly.',
  err_gift_already_used: 'Gift already used',
  err_gift_already_used_body: 'You have already received your one gift from this streamer.',
  err_gift_request_active: 'Gift already requested',
  err_gift_request_active_body: 'You already have a gift request in the queue.',
  err_not_found: 'Not available',
  err_not_found_body: 'The server does not offer this yet.',
  err_payload_too_large: 'Too long',
  err_payload_too_large_body: 'That was more than the server accepts.',
  err_fallback: 'Something went wrong',
  err_fallback_body: 'Please try again in a moment.',

  // config page
  cfgNoSettings: 'No settings needed',
  cfgIntro: 'This panel shows your viewers the gold roulette. It talks to the server (EBS) this build targets:',
  cfgChecking: 'Checking the EBS…',
  cfgVersion: (v: string) => `Panel version v${v}.`,
  cfgChecklist: 'Checklist',
  cfgUnreachable: (why: string) => `EBS not reachable from here: ${why}.`,
  cfgReachable: (v: string) => `EBS reachable (v${v}).`,
  cfgNeedsNewer: (v: string) => ` It needs panel v${v} or newer — upload a newer release.`,
  cfgOneChannel: 'One EBS serves one channel: install this extension only on the channel its EBS was set up for.',

  // the streamer's controls (paused roulette, bans, winner cooldown)
  pausedStreamer: 'Paused by the streamer',
  pausedBudget: 'Paused: today’s gold is given out',
  pausedOffline: 'Paused: the stream is offline',
  pausedOther: 'The roulette is paused',
  pausedCountdown: 'Round ends in',
  pausedHintStreamer: 'The wheel spins again once the streamer resumes it',
  pausedHintBudget: 'Draws resume after midnight UTC, with a new day’s gold',
  pausedHintOffline: 'The wheel spins again once the stream is live',
  err_banned: 'You can’t join this giveaway',
  err_banned_body: 'The streamer has removed you from the giveaway.',
  drawnAgainFrom: (at: string) => `You’re in, and can be drawn again from ${at}`,
};

export type Strings = typeof en;

const ruPeople = (n: number) => `${n} ${ruPlural(n, 'зритель', 'зрителя', 'зрителей')}`;

const ru: Strings = {
  title: "Mimiron's Gold-o-Matic",
  retry: 'Повторить',
  showingLast: 'Показаны последние полученные данные.',
  retryingIn: (s) => `Повтор через ${s} с.`,
  retrying: 'Повторяем…',

  ariaPayout: 'Твой выигрыш',
  ariaRoulette: 'Рулетка',
  ariaIdentity: 'Твой аккаунт',
  howToJoin: 'Как участвовать',
  gift: 'Подарок',
  rules: 'Правила',

  shareIdentity: 'Поделиться аккаунтом, чтобы видеть свой статус',
  identityLoggedOut: 'Войди в Twitch и поделись своим аккаунтом с этим расширением, чтобы видеть, есть ли ты в пуле и что ты выиграл.',
  identityShare: 'Поделись своим аккаунтом Twitch с этим расширением, чтобы видеть, есть ли ты в пуле и что ты выиграл.',

  joinCmdBefore: 'Подписчики пишут в чат стрима ',
  joinCmdAfter: '.',
  nameRules: 'Имя — от 2 до 12 латинских или кириллических букв; одно имя может быть в пуле только один раз.',
  characterPlaceholder: 'ИмяПерсонажа',
  characterLabel: 'Имя персонажа',
  join: 'Войти',
  pool: (n) => `В пуле: ${ruPeople(n)}`,
  poolUnknown: 'В пуле: …',
  youreIn: 'Ты в пуле как ',
  notIn: 'Тебя пока нет в пуле.',
  joinedOk: (name) => `Ты в пуле как ${name}!`,
  leave: 'Выйти из пула',
  leaveConfirm: 'Нажми ещё раз, чтобы выйти',
  leftOk: 'Ты вышел из пула.',
  lifetime: (won, cap) => `Выиграно: ${won} з из ${cap} з`,
  lifetimeFull: 'Ты достиг предела выигрышей — спасибо за игру!',
  everyMinutes: (m) => (m === 1 ? 'каждую минуту' : `каждые ${m} ${ruPlural(m, 'минуту', 'минуты', 'минут')}`),
  everySeconds: (s) => `каждые ${s} ${ruPlural(s, 'секунду', 'секунды', 'секунд')}`,
  rule1: (every) => `Колесо крутится ${every} и случайно выбирает одного зрителя из пула.`,
  rule2: 'Выбранный зритель выигрывает, только если его персонаж в игре (онлайн в WoW); иначе в этом раунде победителя нет.',
  rule3: 'Не выпал? Ты остаёшься в пуле на следующие розыгрыши.',
  rule4: 'Победитель выходит из пула, когда золото доставлено, и может записаться снова.',
  rule5: '1 000 з за победу, не больше 10 000 з на зрителя за всё время.',

  giftIntroBefore: 'Подписчики могут один раз попросить случайный предмет из сумок стримера: напиши в чат ',
  giftIntroAfter: '.',
  giftLabel: 'Имя персонажа для подарка',
  ask: 'Попросить',
  giftQueued: (name, pos, wait) => `${name} — №${pos} в очереди подарков, ${wait}.`,
  giftNext: 'ты следующий',
  giftUnderMinute: 'меньше минуты',
  giftAboutMin: (m) => `около ${m} мин`,
  giftPicking: (name) => `Стример выбирает подарок для ${name}…`,
  giftConfirm: (item) => `${item ? `Твой подарок: ${item}. ` : ''}Ответь !twgift на шёпот стримера в WoW, чтобы принять его:`,
  giftDone: (item) => `Подарок принят${item ? `: ${item}` : ''} — проверяй почту!`,
  giftFailed: (why) => `В этот раз без подарка: ${why}.`,
  giftWhyDeclined: 'ты отказался от подарка',
  giftWhySelection: 'предмет не выбрали вовремя',
  giftWhyConfirmation: 'ответа на шёпот не было вовремя',
  giftWhyNoItems: 'в сумках стримера нечего подарить',
  giftWhyOther: 'его не удалось завершить',

  youWon: 'Ты победил!',
  wonFor: (g) => `${g} з для `,
  stepWhisper: 'Персонаж стримера напишет тебе в игре шёпотом:',
  stepReplyBefore: 'Ответь на него ',
  stepReplyAfter: ', чтобы согласиться.',
  accepted: ' Принято ✓',
  stepMail: (name) => `Затем стример отправит золото персонажу ${name} по почте.`,
  statusInProgress: 'Стример готовит письмо',
  statusAccepted: 'Согласие получено — ждём, когда стример отправит золото',
  statusWaiting: 'Ждём твоего ответа в WoW',
  rewardSent: 'Награда отправлена',
  inMailbox: (g, name) => `${g} з ждут персонажа ${name} на почте.`,
  lastPayout: 'Последняя выплата',
  lastLine: (name, why) => `Последняя выплата персонажу ${name}: ${why}.`,
  whyFailed: 'доставка не удалась',
  whyCancelled: 'она отменена',
  whyExpired: 'её не доставили за 24 часа',
  joinAgain: 'Можно снова записаться через !twgold.',

  outcomeWon: (name) => `${name} побеждает!`,
  outcomeOffline: (name) => `${name} не в игре — в этом раунде без победителя`,
  outcomeNoWinner: 'В этом раунде без победителя',
  outcomeNobody: 'В этом раунде некого было выбрать',
  lastRound: (text) => `Прошлый раунд: ${text}`,
  poolEmpty: 'Пул пуст — запишись первым!',
  spinsOnceJoined: (at) => `Когда кто-то запишется, колесо закрутится на ${at}`,
  collecting: (n) => `Идёт запись — в пуле ${ruPeople(n)}`,
  spinsAt: (at) => `Колесо закрутится на ${at}`,
  spinning: 'Колесо крутится…',
  landedOn: (name) => `Колесо остановилось на ${name}`,
  drawing: 'Выбираем…',
  checking: (name) => `Проверяем, в игре ли ${name}…`,
  checkingWinner: 'Проверяем, в игре ли победитель…',
  weHaveWinner: 'У нас есть победитель!',
  roundOver: 'Раунд окончен',
  roundOverNobody: 'Раунд окончен — некого было выбрать',
  waitingNext: 'Ждём следующего раунда',
  nextRoundIn: 'До раунда',
  openOnTwitch: 'Открой эту панель на Twitch, чтобы увидеть рулетку.',
  connecting: 'Подключаемся к Twitch…',
  rouletteFailed: 'Рулетку пока не удалось загрузить.',
  rouletteLoading: 'Загружаем рулетку…',
  recentWinners: 'Недавние победители',

  verifyButton: 'Проверить розыгрыш',
  verifyChecking: 'Проверяем розыгрыш…',
  verifyOkWinner: (n, place, name) => `✓ Розыгрыш проверен: ${n} ${ruPlural(n, 'участник', 'участника', 'участников')}, победитель №${place} ${name}`,
  verifyOkDrawn: (n, place, name) => `✓ Розыгрыш проверен: ${n} ${ruPlural(n, 'участник', 'участника', 'участников')}, выпал №${place} ${name}`,
  verifyOkEmpty: '✓ Розыгрыш проверен: выбирать было некого',
  verifySeenMatched: 'хеш, опубликованный до розыгрыша, совпал',
  verifyNotSeen: 'эта панель не видела хеш до розыгрыша',
  verifyYouIn: (place) => `Ты есть в списке (№${place}).`,
  verifyYouOut: 'Тебя нет в этом списке.',
  verifyBad: '✗ Розыгрыш не сходится:',
  verifyNotRevealed: 'Зерно раскрывается после розыгрыша — попробуй чуть позже.',
  verifyNoProof: 'У этого раунда нет доказательства: он решён без заранее объявленного розыгрыша.',
  verifyExpired: 'Доказательство этого раунда больше не хранится.',
  verifyUnreadable: 'Ответ сервера — не доказательство розыгрыша.',
  verifyNoCrypto: 'Этот браузер не может проверить розыгрыш здесь (нет WebCrypto).',
  verifyLoadFailed: (why) => `Не удалось загрузить доказательство: ${why}`,
  vmVersion: (published, supported) => `доказательство версии ${published}; панель проверяет только ${supported}`,
  vmSeed: 'раскрытое зерно — не 64 строчные шестнадцатеричные цифры',
  vmCommitment: (published, recomputed) => `SHA-256 зерна — ${recomputed}, а не опубликованный хеш ${published}`,
  vmSavedCommitment: (seen, recomputed) => `SHA-256 зерна — ${recomputed}, а не хеш ${seen}, опубликованный до розыгрыша`,
  vmCycleId: (published, asked) => `доказательство раунда ${published}, а не ${asked}`,
  vmListKey: (place) => `у записи №${place} ключ порядка — не 32 шестнадцатеричные цифры`,
  vmListName: (place) => `у записи №${place} пустое имя или имя с табуляцией или переводом строки`,
  vmListOrder: (a, b) => `записи №${a} и №${b} стоят не по порядку`,
  vmListHash: (published, recomputed) => `хеш списка — ${recomputed}, а не опубликованный ${published}`,
  vmIndex: (published, recomputed) => `зерно и список дают №${recomputed}, а не №${published}`,
  vmCandidate: (published, recomputed) => `выпавшая запись — ${recomputed}, а не ${published}`,
  vmShown: (shown, drawn) => `рулетка показала ${shown}, а по доказательству выпал ${drawn}`,
  vmMore: (n) => `…и ещё ${n}`,

  drawnTitle: 'Тебя выбрала рулетка — будь в игре прямо сейчас!',
  drawnBody: (name) => `Сейчас стример проверит, в игре ли ${name}.`,
  wonTitle: 'Ты победил!',
  wonBody: 'Ответь !twgold на шёпот стримера в WoW, чтобы согласиться.',
  missedTitle: (name) => `${name} не был в игре`,
  missedBody: 'Ты остаёшься в пуле на следующие раунды.',
  channelTitle: 'Этот канал не обслуживается этим сервером Gold-o-Matic',
  channelBody: 'Один сервер Gold-o-Matic обслуживает один канал, а сервер этой панели настроен для другого.',

  outOfDate: (cur, min) => `Панель устарела (v${cur}; нужна v${min}). `,
  reload: 'Обновить',
  whatsNew: ' Что нового',

  err_invalid_character_name: 'Проверь имя персонажа',
  err_invalid_character_name_body: 'Имя — от 2 до 12 букв, только латиница или кириллица: без цифр, пробелов и символов.',
  err_lifetime_cap_reached: 'Предел выигрышей достигнут',
  err_lifetime_cap_reached_body: 'Ты уже получил максимум — 10 000 з на этом канале. Спасибо за игру!',
  err_active_payout_exists: 'У тебя уже есть выигрыш в процессе',
  err_active_payout_exists_body: 'Сначала получи текущую награду — её статус показан в этой панели.',
  err_not_subscriber: 'Только для подписчиков',
  err_not_subscriber_body: 'Подпишись на канал, чтобы участвовать в рулетке.',
  err_character_name_taken_in_pool: 'Имя уже занято',
  err_character_name_taken_in_pool_body: 'Другой зритель уже в пуле с этим именем персонажа. Укажи своего персонажа.',
  err_duplicate_enrollment: 'Попробуй ещё раз',
  err_duplicate_enrollment_body: 'Этот запрос уже использован. Отправь его ещё раз.',
  err_unauthorized: 'Сессия истекла',
  err_unauthorized_body: 'Перезагрузи страницу стрима, чтобы панель снова вошла.',
  err_identity_not_shared: 'Поделись аккаунтом',
  err_identity_not_shared_body: 'Поделись аккаунтом Twitch с этим расширением, чтобы видеть свой статус.',
  err_wrong_channel: 'Этот канал не обслуживается этим сервером Gold-o-Matic',
  err_wrong_channel_body: 'Один сервер Gold-o-Matic обслуживает один канал.',
  err_rate_limited: 'Чуть помедленнее',
  err_rate_limited_body: 'Сейчас слишком много запросов — панель сама повторит через мгновение.',
  err_network: 'Нет связи с Gold-o-Matic',
  err_network_body: 'Проверь подключение — панель продолжает пытаться.',
  err_timeout: 'Gold-o-Matic отвечает медленно',
  err_timeout_body: 'Панель продолжает пытаться.',
  err_unavailable: 'Gold-o-Matic взял перерыв',
  err_unavailable_body: 'Сервер сейчас не смог ответить; панель скоро попробует снова.',
  err_internal: 'У нас что-то сломалось',
  err_internal_body: 'Панель скоро попробует снова.',
  err_gift_already_used: 'Подарок уже получен',
  err_gift_already_used_body: 'Ты уже получил свой единственный подарок от этого стримера.',
  err_gift_request_active: 'Подарок уже запрошен',
  err_gift_request_active_body: 'Твоя просьба о подарке уже в очереди.',
  err_not_found: 'Недоступно',
  err_not_found_body: 'Сервер пока этого не умеет.',
  err_payload_too_large: 'Слишком длинно',
  err_payload_too_large_body: 'Сервер не принимает столько данных.',
  err_fallback: 'Что-то пошло не так',
  err_fallback_body: 'Попробуй ещё раз чуть позже.',

  cfgNoSettings: 'Настраивать ничего не нужно',
  cfgIntro: 'Эта панель показывает зрителям золотую рулетку. Она обращается к серверу (EBS), для которого собрана:',
  cfgChecking: 'Проверяем EBS…',
  cfgVersion: (v) => `Версия панели v${v}.`,
  cfgChecklist: 'Что проверить',
  cfgUnreachable: (why) => `EBS отсюда недоступен: ${why}.`,
  cfgReachable: (v) => `EBS доступен (v${v}).`,
  cfgNeedsNewer: (v) => ` Ему нужна панель v${v} или новее — загрузи новый выпуск.`,
  cfgOneChannel: 'Один EBS обслуживает один канал: устанавливай расширение только на тот канал, для которого настроен его EBS.',

  pausedStreamer: 'Пауза: стример остановил розыгрыш',
  pausedBudget: 'Пауза: золото на сегодня роздано',
  pausedOffline: 'Пауза: стрим офлайн',
  pausedOther: 'Розыгрыш на паузе',
  pausedCountdown: 'Раунд закончится через',
  pausedHintStreamer: 'Колесо закрутится снова, когда стример продолжит розыгрыш',
  pausedHintBudget: 'Розыгрыши продолжатся после полуночи по UTC, с золотом нового дня',
  pausedHintOffline: 'Колесо закрутится снова, когда начнётся стрим',
  err_banned: 'Участвовать нельзя',
  err_banned_body: 'Стример исключил тебя из розыгрыша.',
  drawnAgainFrom: (at) => `Ты в пуле, и тебя снова можно выбрать с ${at}`,
};

const TABLES: Record<Lang, Strings> = { en, ru };

/** The words of one language. */
export function strings(lang: Lang): Strings {
  return TABLES[lang];
}

/** Every language's table, for the test that they have the same keys. */
export const ALL_TABLES: Readonly<Record<Lang, Strings>> = TABLES;
