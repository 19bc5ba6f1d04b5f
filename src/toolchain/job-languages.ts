/**
 * The language set a job's toolchain must cover: the job's source language (its front end) and
 * the language whose driver it runs (`gcc x.cpp` runs the C driver and the C++ front end;
 * `g++ x.c` the C++ driver). The client passes it to `LocalToolchains.idFor` so that a builder
 * pulls only that set; anything outside the four toolchain languages gets the full toolchain.
 *
 * @example
 * ```ts
 * const languages = jobLanguages(inv.language, driverFor(compiler, inv.language))
 * const id = await local.idFor(compiler, { signal, ...(languages ? { languages } : {}) })
 * ```
 */
import { LANGUAGES, type ToolchainLanguage } from './manifest.ts'

const isLanguage = (v: string): v is ToolchainLanguage =>
  (LANGUAGES as readonly string[]).includes(v)

export function jobLanguages(language: string, driver: string): ToolchainLanguage[] | undefined {
  if (!isLanguage(language) || !isLanguage(driver)) return undefined
  return language === driver ? [language] : [language, driver].sort()
}
