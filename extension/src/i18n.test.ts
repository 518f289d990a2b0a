import { describe, expect, it } from 'vitest';
import { ALL_TABLES, gold, pickLang, rewardLine, ruPlural, strings, WINNER_WHISPER } from './i18n';

describe('string tables', () => {
  const en = ALL_TABLES.en as Record<string, unknown>;
  const ru = ALL_TABLES.ru as Record<string, unknown>;

  it('have the same keys in English and Russian', () => {
    expect(Object.keys(ru).sort()).toEqual(Object.keys(en).sort());
  });

  it('have no empty entry, and functions take the same arguments in both', () => {
    for (const [lang, table] of Object.entries({ en, ru })) {
      for (const [k, v] of Object.entries(table)) {
        if (typeof v === 'string') {
          expect(v.trim() === '' && !['joinCmdAfter', 'giftIntroAfter'].includes(k), `${lang}.${k} is empty`).toBe(false);
          continue;
        }
        expect(typeof v, `${lang}.${k}`).toBe('function');
        const f = v as (...a: unknown[]) => string;
        expect(f.length, `${lang}.${k} arity`).toBe((en[k] as (...a: unknown[]) => string).length);
        const out = f(...Array.from({ length: f.length }, (_, i) => (i === 0 ? 3 : 'X')));
        expect(out, `${lang}.${k}`).not.toMatch(/undefined|\[object/);
        expect(out.trim(), `${lang}.${k}`).not.toBe('');
      }
    }
  });

  it('are really translated (Russian entries are not English copies)', () => {
    const same = Object.keys(en).filter((k) => typeof en[k] === 'string' && en[k] === ru[k] && !/^(title)$/.test(k));
    expect(same).toEqual([]);
  });
});

describe('language choice', () => {
  it.each([
    [null, '', 'en'],
    ['ru', '', 'ru'],
    ['RU', '', 'ru'],
    ['en', '?language=ru', 'en'],
    [null, '?anchor=panel&language=ru&locale=ru-RU&mode=viewer', 'ru'],
    [null, '?locale=ru-RU', 'ru'],
    [null, '?language=de&locale=de-DE', 'en'],
    ['', '?language=ru', 'ru'],
    ['pt-br', '?language=ru', 'en'],
  ])('context %s, query %s → %s', (ctx, q, want) => {
    expect(pickLang(ctx, q)).toBe(want);
  });
});

describe('Russian plurals and numbers', () => {
  it.each([
    [1, 'зритель'],
    [2, 'зрителя'],
    [4, 'зрителя'],
    [5, 'зрителей'],
    [11, 'зрителей'],
    [12, 'зрителей'],
    [21, 'зритель'],
    [22, 'зрителя'],
    [111, 'зрителей'],
  ])('%d %s', (n, word) => {
    expect(ruPlural(n, 'зритель', 'зрителя', 'зрителей')).toBe(word);
  });

  it('says the pool size in each language', () => {
    expect(strings('en').pool(1)).toBe('Pool: 1 viewer');
    expect(strings('en').pool(3)).toBe('Pool: 3 viewers');
    expect(strings('ru').pool(3)).toBe('В пуле: 3 зрителя');
    expect(strings('ru').everyMinutes(5)).toBe('каждые 5 минут');
    expect(strings('ru').everyMinutes(1)).toBe('каждую минуту');
  });

  it('writes gold amounts per language', () => {
    expect(gold(10000, 'en')).toBe('10,000');
    expect(gold(10000, 'ru').replace(/\s/g, ' ')).toBe('10 000');
  });
});

describe('normative texts', () => {
  it('are byte-exact', () => {
    expect(rewardLine('Norinn')).toBe('Награда отправлена персонажу Norinn на почту, проверяй ящик!');
    expect(WINNER_WHISPER).toBe(
      'Поздравляю, ты победил в розыгрыше! Дай мне своё согласие на получение награды - ответь на это сообщение одной фразой: !twgold',
    );
  });
});
