/**
 * JSON Schemas of the public API: the single source for Fastify's validation and serialization
 * and for the OpenAPI document (schemas stay within the subset that draft-07 (ajv) and
 * OpenAPI 3.1 (JSON Schema 2020-12) read the same way).
 */

import { ACCOUNT_LIMITS } from '../../shared/src/account-limits';

export const Problem = {
  type: 'object',
  description: 'RFC 9457 problem details.',
  required: ['type', 'title', 'status'],
  properties: {
    type: { type: 'string' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    instance: { type: 'string' },
    requestId: { type: 'string' },
    errors: {
      type: 'array',
      items: {
        type: 'object',
        required: ['field', 'message'],
        properties: { field: { type: 'string' }, message: { type: 'string' } },
      },
    },
  },
} as const;

const email = { type: 'string', format: 'email', maxLength: ACCOUNT_LIMITS.emailMaxLength } as const;
const name = { type: 'string', minLength: 1, maxLength: ACCOUNT_LIMITS.nameMaxLength } as const;
const password = { type: 'string', minLength: ACCOUNT_LIMITS.passwordMinLength, maxLength: ACCOUNT_LIMITS.passwordMaxLength } as const;
const token = { type: 'string', minLength: 1, maxLength: 4096 } as const;
const userId = { type: 'string', minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' } as const;

export const SignupBody = {
  type: 'object',
  additionalProperties: false,
  required: ['email', 'password', 'name'],
  properties: { email, password, name },
} as const;

export const SignupResponse = {
  type: 'object',
  required: ['userId'],
  properties: { userId: { type: 'string' } },
} as const;

export const LoginBody = {
  type: 'object',
  additionalProperties: false,
  required: ['email', 'password'],
  properties: { email, password: { type: 'string', minLength: 1, maxLength: 1024 } },
} as const;

export const TokenResponse = {
  type: 'object',
  required: ['accessToken', 'tokenType', 'expiresIn', 'refreshToken', 'refreshExpiresIn'],
  properties: {
    accessToken: { type: 'string' },
    tokenType: { type: 'string' },
    expiresIn: { type: 'integer', description: 'Seconds until the access token expires.' },
    refreshToken: { type: 'string' },
    refreshExpiresIn: { type: 'integer', description: 'Seconds until the refresh token expires.' },
  },
} as const;

export const RefreshBody = {
  type: 'object',
  additionalProperties: false,
  required: ['refreshToken'],
  properties: { refreshToken: token },
} as const;

export const Jwks = {
  type: 'object',
  required: ['keys'],
  properties: { keys: { type: 'array', items: { type: 'object', additionalProperties: true } } },
} as const;

export const User = {
  type: 'object',
  required: ['id', 'email', 'name', 'createdAt'],
  properties: {
    id: { type: 'string' },
    email: { type: 'string' },
    name: { type: 'string' },
    createdAt: { type: 'string', format: 'date-time' },
  },
} as const;

export const UserIdParams = {
  type: 'object',
  additionalProperties: false,
  required: ['id'],
  properties: { id: userId },
} as const;

export const UpdateUserBody = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  properties: { name, email },
} as const;

export const ListUsersQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    pageSize: { type: 'integer', minimum: 1, maximum: 100, default: 20 },
    pageToken: { type: 'string', maxLength: 512 },
  },
} as const;

export const UserList = {
  type: 'object',
  required: ['users'],
  properties: {
    users: { type: 'array', items: User },
    nextPageToken: { type: 'string', description: 'Absent on the last page.' },
  },
} as const;

export const RotateResponse = {
  type: 'object',
  required: ['nextKid', 'activatesAt'],
  properties: {
    nextKid: { type: 'string' },
    activatesAt: { type: 'string', format: 'date-time', description: 'When the new key starts signing.' },
  },
} as const;

export const OpenApiDocument = {
  type: 'object',
  additionalProperties: true,
  description: 'This document (OpenAPI 3.1).',
} as const;
